"""A real local feed farm (threading http.server): every file of ../shared/eval/feeds/ under
/eval/<path>, generated feeds under /gen/<name>, and hostile endpoints. Conditional GET
(ETag / Last-Modified → 304), gzip and brotli when asked, Retry-After, redirects."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import brotli

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<rss version="2.0"><channel><title>&lol4;</title><item><title>&lol4;</title>
<link>http://bomb.example/1</link></item></channel></rss>"""

LAST_MODIFIED = "Thu, 13 Jun 2024 10:00:00 GMT"


def rss(title: str, items: list[tuple[str, str, str]], extra: str = "") -> bytes:
    """items: (title, link, description)."""
    body = "".join(f"<item><title>{t}</title><link>{link}</link><description>{d}</description>"
                   f"<pubDate>Thu, 13 Jun 2024 0{i % 10}:00:00 GMT</pubDate></item>"
                   for i, (t, link, d) in enumerate(items))
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{title}</title><link>https://farm.example/</link>{extra}{body}"
            f"</channel></rss>").encode()


class Farm:
    def __init__(self, eval_dir: Path | None) -> None:
        self.eval_dir = eval_dir
        self.files: dict[str, tuple[bytes, str]] = {}  # path -> (body, content type)
        self.routes: dict[str, tuple[int, dict[str, str]]] = {}  # path -> (status, headers)
        self.hits: Counter[str] = Counter()
        self.base = ""

    def add(self, path: str, body: bytes, content_type: str = "application/xml") -> str:
        self.files[path] = (body, content_type)
        return self.base + path

    def route(self, path: str, status: int, **headers: str) -> str:
        self.routes[path] = (status, headers)
        return self.base + path


@functools.lru_cache(maxsize=256)
def _compressed(body: bytes, encoding: str) -> bytes:
    return brotli.compress(body, quality=4) if encoding == "br" else gzip.compress(body, 6)


def _handler(farm: Farm) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = urlsplit(self.path).path
            farm.hits[path] += 1
            if path in farm.routes:
                status, headers = farm.routes[path]
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key.replace("_", "-"), value.replace("{base}", farm.base))
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path == "/slow":
                self._slow()
            elif path.startswith("/huge"):
                self._huge(declared=path.endswith("declared"))
            else:
                self._file(path)

        def _file(self, path: str) -> None:
            found = farm.files.get(path)
            if found is None and farm.eval_dir and path.startswith("/eval/"):
                file = farm.eval_dir / path.removeprefix("/eval/")
                if file.is_file():
                    ctype = "application/json" if file.suffix == ".json" else "application/xml"
                    found = (file.read_bytes(), ctype)
            if found is None:
                self.send_error(404)
                return
            body, ctype = found
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            accept = self.headers.get("Accept-Encoding", "")
            encoding = "br" if "br" in accept else "gzip" if "gzip" in accept else None
            if encoding:
                body = _compressed(body, encoding)
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", LAST_MODIFIED)
            if encoding:
                self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _slow(self) -> None:  # 1 byte a second, forever (until the client gives up)
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.end_headers()
            try:
                for byte in rss("slow", []) * 100:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass

        def _huge(self, declared: bool) -> None:  # "1 GB": until the client's cap trips
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            if declared:
                self.send_header("Content-Length", str(1 << 30))
            self.end_headers()
            chunk = b"<!-- padding -->" * 4096
            try:
                self.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
                for _ in range((64 << 20) // len(chunk)):
                    self.wfile.write(chunk)
            except OSError:
                pass

    return Handler


@contextmanager
def serve(eval_dir: Path | None, host: str = "127.0.0.1") -> Iterator[Farm]:
    farm = Farm(eval_dir)
    server = http.server.ThreadingHTTPServer((host, 0), _handler(farm))
    server.daemon_threads = True
    farm.base = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield farm
    finally:
        server.shutdown()
        server.server_close()
