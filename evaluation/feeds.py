"""How many real feed entries become articles, on the feed farm of ``eval/feeds/``.

    python -m evaluation.feeds [--eval-dir ../shared/eval] [--json]

Serves every file of the farm over a real local HTTP server, writes a config listing them
(``newswire init`` + feeds.yaml), runs ``newswire run --once`` into a temporary data
directory as a user would, then reads the SQLite store. The entries are counted by a
reference reading of each file (feedparser for XML, ``json`` for JSON Feed): an entry
counts when its text (content, else summary; tags stripped) has at least 300 characters.
It became an article when an article seen in its feed shares most of its words (word
5-grams); otherwise the dead letter naming its feed and entry says why (or "lost": no
article and no dead letter, which must never happen).
"""

from __future__ import annotations

import argparse
import csv
import html
import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import feedparser

from evaluation.paths import REPO, eval_dir
from pipeline.storage.sqlite.store import SqliteStore

MIN_CHARS = 300
TARGET = 0.95  # the share of such entries that must become articles
_TAGS = re.compile(r"<[^>]+>")
_WORD = re.compile(r"\w+")
_ASCII_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Entry:
    feed: str  # the farm path
    key: str  # id, else link, else title
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class Outcome:
    entry: Entry
    article: bool
    reason: str  # the dead letter's reason when not an article


def plain(value: str | None) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", value or "")).split())


def _json_entries(path: str, data: bytes) -> Iterator[Entry]:
    for n, item in enumerate(json.loads(data.decode("utf-8-sig")).get("items") or []):
        text = plain(item.get("content_html") or item.get("content_text") or item.get("summary"))
        key = str(item.get("id") or item.get("url") or item.get("title") or f"#{n}")
        yield Entry(path, key, str(item.get("title") or ""), text)


def read_entries(root: Path, path: str) -> list[Entry]:
    """The farm file's entries by the reference reading (not newswire's own parser)."""
    data = (root / path).read_bytes()
    if path.endswith(".json"):
        try:
            return list(_json_entries(path, data))
        except (ValueError, AttributeError):
            return []
    out = []
    for n, entry in enumerate(feedparser.parse(data).entries):
        bodies = [c.get("value", "") for c in entry.get("content") or []]
        text = max((plain(b) for b in [*bodies, entry.get("summary")]), key=len, default="")
        key = str(entry.get("id") or entry.get("link") or entry.get("title") or f"#{n}")
        out.append(Entry(path, key, str(entry.get("title") or ""), text))
    return out


def shingles(text: str, n: int = 5, word: re.Pattern[str] = _WORD) -> set[tuple[str, ...]]:
    words = word.findall(text.lower())
    return {tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1))}


def same_text(entry: str, article: str) -> bool:
    """Whether most of the entry's word 5-grams are in the article; failing that, most of
    its ASCII-word 5-grams (a feed without encoding information is decoded by a guess, and
    two readers' guesses garble its non-ASCII letters differently)."""
    for word, least in ((_WORD, 1), (_ASCII_WORD, 10)):
        grams = shingles(entry, word=word)
        if len(grams) >= least and len(grams & shingles(article, word=word)) >= len(grams) / 2:
            return True
    return False


class _Quiet(http.server.SimpleHTTPRequestHandler):
    extensions_map = {".json": "application/json", "": "application/xml",
                      ".xml": "application/xml"}

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return "application/json" if str(path).endswith(".json") else "application/xml"

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """The farm over HTTP on 127.0.0.1 (a free port); yields the base URL."""
    handler = partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def newswire(*args: str) -> None:
    """Run the newswire command line with this interpreter; a failure stops the evaluation."""
    done = subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=REPO,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"newswire {' '.join(args)} failed ({done.returncode}):\n"
                         f"{done.stderr[-2000:]}")


def ingest(base: str, paths: list[str], work: Path) -> SqliteStore:
    """``newswire init`` + a feeds.yaml of the farm, then ``newswire run --once``."""
    config, data = work / "config", work / "data"
    newswire("init", str(config))
    feeds = "feeds:\n" + "".join(f"  - url: {base}/{p}\n" for p in paths)
    (config / "feeds.yaml").write_text(feeds, encoding="utf-8")
    with (config / "newswire.yaml").open("a", encoding="utf-8") as fh:
        fh.write("\nhost_min_delay: 0\nhttp_timeout: 10\n")  # one local host serves all
    newswire("--config", str(config), "--data-dir", str(data), "run", "--once")
    return SqliteStore(data / "newswire.db")


def judge(entries: list[Entry], base: str, store: SqliteStore) -> list[Outcome]:
    """Each entry: an article of its feed shares most of its words, else its dead letter."""
    by_feed: dict[str, list[str]] = {}
    for article in store.export():
        for feed_url in store.seen_in(article.id):
            by_feed.setdefault(feed_url, []).append(f"{article.title}\n{article.text}")
    letters = [(d.stage, d.error, d.payload) for d in store.dead_letters()]
    out = []
    for entry in entries:
        url = f"{base}/{entry.feed}"
        if any(same_text(entry.text, text) for text in by_feed.get(url, [])):
            out.append(Outcome(entry, True, ""))
            continue
        names = [n for n in (entry.title, entry.key) if n]
        found = [f"{stage}: {error}" for stage, error, payload in letters
                 if url in payload + error
                 and any(_json_text(n) in payload + error for n in names)]
        out.append(Outcome(entry, False, found[0] if found else
                           "lost: no article and no dead letter naming the entry"))
    return out


def _json_text(value: str) -> str:
    """How a string appears inside a JSON payload (quotes, non-ASCII escaped)."""
    return json.dumps(value)[1:-1]


def evaluate(root: Path) -> list[Outcome]:
    with (root / "manifest.tsv").open(encoding="utf-8") as fh:
        paths = [row["local_path"] for row in csv.DictReader(fh, delimiter="\t")]
    entries = [e for p in paths for e in read_entries(root, p) if len(e.text) >= MIN_CHARS]
    with serve(root) as base, tempfile.TemporaryDirectory(prefix="nw-feeds-") as tmp:
        store = ingest(base, paths, Path(tmp))
        try:
            return judge(entries, base, store)
        finally:
            store.close()


def report(outcomes: list[Outcome]) -> dict[str, Any]:
    made = sum(o.article for o in outcomes)
    return {"entries": len(outcomes), "articles": made,
            "share": round(made / len(outcomes), 4) if outcomes else 0.0,
            "refused": [{"feed": o.entry.feed, "entry": o.entry.title or o.entry.key,
                         "reason": o.reason} for o in outcomes if not o.article]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.feeds", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval-dir", type=Path, default=eval_dir())
    parser.add_argument("--json", action="store_true", help="one JSON document")
    args = parser.parse_args(argv)
    root = args.eval_dir / "feeds"
    if not (root / "manifest.tsv").is_file():
        print(f"no feed farm at {root} (expected manifest.tsv there)", file=sys.stderr)
        return 2
    result = report(evaluate(root))
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    print(f"feed farm: {result['entries']} entries with >= {MIN_CHARS} chars of text, "
          f"{result['articles']} became articles ({result['share']:.1%}; target >= {TARGET:.0%})")
    for item in result["refused"]:
        print(f"  refused {item['feed']} :: {item['entry'][:70]!r}\n      {item['reason']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
