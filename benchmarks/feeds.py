"""Feed polling throughput and memory against a local farm (aiohttp, its own process).

The farm serves FEEDS small RSS feeds spread over HOSTS loopback addresses (127.0.1.x) with
ETag / If-None-Match. One process schedules and polls all of them through the real
FeedScheduler (Poller, per-host limits, SQLite feed state, identity): a first round where
every feed answers 200 with an item, then a round where every feed answers 304, then the
scheduling itself (due + sleep) over all feeds. The per-host limits are raised for the
farm (it is HOSTS hosts serving FEEDS/HOSTS feeds each): host_concurrency 16, no delay.
"""

from __future__ import annotations

import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FEEDS = 10_000
HOSTS = 8


def _serve(port_file: str) -> None:
    from aiohttp import web

    async def feed(request: web.Request) -> web.Response:
        n = request.match_info["n"]
        etag = f'"v1-{n}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        body = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
                f"<item><title>Item of feed {n}</title><link>https://bench.example/{n}/1</link>"
                f"<pubDate>Thu, 13 Jun 2024 10:00:00 GMT</pubDate><description>Text {n}."
                f"</description></item></channel></rss>")
        return web.Response(body=body.encode(), content_type="application/xml",
                            headers={"ETag": etag})

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/f/{n}.xml", feed)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        first = web.TCPSite(runner, "127.0.1.1", 0)
        await first.start()
        port = runner.addresses[0][1]
        for h in range(2, HOSTS + 1):
            await web.TCPSite(runner, f"127.0.1.{h}", port).start()
        Path(port_file).write_text(str(port))
        await asyncio.Event().wait()

    asyncio.run(main())


async def _bench(base_port: int, data: Path) -> list[tuple[str, dict[str, float]]]:
    from pipeline.models import FeedSource, RawArticle
    from pipeline.sources.feeds import Poller
    from pipeline.sources.http import HttpPolicy
    from pipeline.sources.scheduler import FeedScheduler
    from pipeline.storage.sqlite.store import SqliteStore

    feeds = [FeedSource(url=f"http://127.0.1.{n % HOSTS + 1}:{base_port}/f/{n}.xml")
             for n in range(FEEDS)]
    store = SqliteStore(data / "state.db")
    poller = Poller(policy=HttpPolicy(timeout=30, host_concurrency=16, host_min_delay=0))
    sched = FeedScheduler(poller, store, concurrency=32)

    async def sink(feed: FeedSource, raws: list[RawArticle], rejected: object) -> int:
        return len(raws)

    rows = []
    try:
        for name in ("feeds polled, first fetch (200 + item)", "feeds polled, all answer 304"):
            start = time.perf_counter()
            report = await sched.run_round(feeds, sink, force=True)
            elapsed = time.perf_counter() - start
            rows.append((f"{name}, {FEEDS} feeds", {
                "done": report.polled, "seconds": elapsed, "rate": report.polled / elapsed,
                "failed": report.failed, "not_modified": report.not_modified,
                "new_items": report.new_items}))
        start = time.perf_counter()
        due = sum(len(sched.due(feeds, time.time())) for _ in range(10))
        sched.sleep_for(feeds, 300)
        elapsed = time.perf_counter() - start
        rows.append((f"feeds scheduled (due check x10), {FEEDS} feeds",
                     {"done": FEEDS * 10, "seconds": elapsed, "rate": FEEDS * 10 / elapsed,
                      "due_now": due / 10}))
    finally:
        await poller.close()
        store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for _, figures in rows:
        figures["peak_mb"] = peak
    return rows


def rows() -> list[tuple[str, dict[str, float]]]:
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        server = subprocess.Popen([sys.executable, "-m", "benchmarks.feeds", "--serve",
                                   str(port_file)])
        try:
            for _ in range(100):
                if port_file.exists() and port_file.read_text():
                    break
                time.sleep(0.1)
            return asyncio.run(_bench(int(port_file.read_text()), Path(tmp)))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        _serve(sys.argv[2])
    else:
        for case, figures in rows():
            print(case, {k: round(v, 2) for k, v in figures.items()})
