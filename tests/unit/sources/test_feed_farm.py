"""The feed farm: real local HTTP servers, no HTTP mocks. Every real feed of
../shared/eval/feeds/ is ingested with its entries; every malformed or hostile one ends
with a readable error in feed health, never a crash."""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest

from pipeline.config.settings import Settings
from pipeline.models import FeedSource, RawArticle
from pipeline.runtime.embedded import EmbeddedRuntime
from pipeline.sources.feeds import Poller
from pipeline.sources.http import HttpPolicy
from pipeline.sources.safety import AddressGuard
from pipeline.sources.scheduler import FeedScheduler, RoundReport
from pipeline.storage.sqlite.store import SqliteStore
from tests.conftest import SHARED, require_path
from tests.unit.sources.farm import LAUGHS, Farm, rss, serve

FEEDS = SHARED / "eval" / "feeds"
MALFORMED = ("malformed", "malformed_or_incomplete")


@pytest.fixture
def farm() -> Iterator[Farm]:
    with serve(FEEDS if FEEDS.exists() else None) as running:
        yield running


class Collect:
    """A sink that keeps what the scheduler hands over (the runtimes process or send it)."""

    def __init__(self) -> None:
        self.articles: dict[str, list[RawArticle]] = {}
        self.rejected: dict[str, list[tuple[str, str]]] = {}

    async def __call__(self, feed: FeedSource, raws: list[RawArticle],
                       rejected: list[tuple[str, str]]) -> int:
        self.articles.setdefault(feed.url, []).extend(raws)
        self.rejected.setdefault(feed.url, []).extend(rejected)
        return len(raws)


def scheduler(tmp_path: Path, **policy: Any) -> tuple[FeedScheduler, SqliteStore]:
    store = SqliteStore(tmp_path / "state.db")
    http = HttpPolicy(**{"timeout": 5.0, "host_concurrency": 8, "host_min_delay": 0.0,
                         **policy})
    guard = policy.pop("guard", None) if "guard" in policy else None
    return FeedScheduler(Poller(policy=http, guard=guard), store, concurrency=16), store


async def one_round(sched: FeedScheduler, feeds: list[FeedSource],
                    sink: Collect | None = None) -> tuple[RoundReport, Collect]:
    sink = sink or Collect()
    report = await sched.run_round(feeds, sink, force=True)
    return report, sink


def manifest() -> list[dict[str, str]]:
    path = require_path(FEEDS / "manifest.tsv", "the eval feeds")
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def expected_entries(path: Path) -> int:
    """Distinct entries (a feed that repeats an item carries it once; an item that reuses
    another's GUID for other text is an entry of its own)."""
    data = path.read_bytes()
    if path.suffix == ".json":
        entries = [{"id": i.get("id")} for i in json.loads(data)["items"]]
    else:
        entries = feedparser.parse(data).entries
    return len({(e.get("id") or e.get("link") or n, e.get("summary"))
                for n, e in enumerate(entries)})


async def test_every_eval_feed_ingested_or_reported(farm: Farm, tmp_path: Path) -> None:
    rows = manifest()
    feeds = [FeedSource(url=f"{farm.base}/eval/{r['local_path']}") for r in rows]
    sched, store = scheduler(tmp_path)
    report, sink = await one_round(sched, feeds)
    states = store.feed_states()
    summary: Counter[str] = Counter()
    for row, feed in zip(rows, feeds, strict=True):
        state = states[feed.url]
        got = len(sink.articles.get(feed.url, []))
        rejected = sink.rejected.get(feed.url, [])
        if row["category"] in MALFORMED:
            if row["xml_or_json_wellformed"] == "no":  # readable error, in words
                assert state["last_error"], row["local_path"]
                assert "Traceback" not in state["last_error"]
            summary[f"malformed:{state.get('error_kind') or 'read with warning'}"] += 1
            continue
        assert state["state"] == "ok", (row["local_path"], state.get("last_error"))
        want = expected_entries(FEEDS / row["local_path"])
        seen = store.conn.execute("SELECT count(*) FROM seen_in WHERE feed_url=?",
                                  (feed.url,)).fetchone()[0]  # fresh + met in another feed
        assert seen + len(rejected) == want, row["local_path"]
        assert all(reason for _, reason in rejected)
        if row["category"].startswith("real_world") and want:
            assert seen or rejected, row["local_path"]
        summary["ingested feeds"] += 1
        summary["ingested entries"] += got
        summary["entries met in an earlier feed"] += seen - got
        summary["rejected entries"] += len(rejected)
    print("\nfarm:", dict(summary), "report:", report)
    assert summary["ingested entries"] >= 650

    second, _ = await one_round(sched, feeds)  # conditional GET: everything answers 304
    assert second.not_modified == second.polled == report.polled


async def test_json_feed_fields(farm: Farm, tmp_path: Path) -> None:
    require_path(FEEDS, "the eval feeds")
    resources = "Ranchero-Software__RSParser/Tests/RSParserTests/Resources"
    url = f"{farm.base}/eval/{resources}/inessential.json"
    sched, _ = scheduler(tmp_path)
    _, sink = await one_round(sched, [FeedSource(url=url)])
    first = sink.articles[url][0]
    assert first.url.host and first.title and (first.html or first.text)
    assert first.published is not None


@pytest.mark.parametrize(("path", "kind", "words"), [
    ("/huge", "too_large", "larger than"),
    ("/huge-declared", "too_large", "larger than"),
    ("/slow", "timeout", "too slow"),
    ("/loop/a", "redirect_loop", "redirect loop"),
    ("/bomb", "unsafe_xml", "XML entity declarations refused"),
    ("/missing", "http", "HTTP 404 not found"),
    ("/gone", "gone", "HTTP 410 gone"),
    ("/retry", "http", "HTTP 503 service unavailable"),
    ("/html", "parse", "not a readable feed"),
])
async def test_hostile_feeds_end_with_readable_errors(farm: Farm, tmp_path: Path, path: str,
                                                      kind: str, words: str) -> None:
    farm.route("/loop/a", 301, Location="{base}/loop/b")
    farm.route("/loop/b", 302, Location="{base}/loop/a")
    farm.route("/gone", 410)
    farm.route("/retry", 503, Retry_After="120")
    farm.add("/bomb", LAUGHS)
    farm.add("/html", b"<html><body><p>Not a feed</p></body></html>", "text/html")
    sched, store = scheduler(tmp_path, timeout=2.0, max_bytes=1 << 20)
    started = time.monotonic()
    report, _ = await one_round(sched, [FeedSource(url=farm.base + path)])
    state = store.feed_state(farm.base + path)
    assert report.errors == Counter({kind: 1})
    assert words in str(state["last_error"]) and state["state"] in ("failing", "gone")
    assert time.monotonic() - started < 10
    if path == "/retry":
        assert float(state["next_poll"]) >= time.time() + 110  # Retry-After honoured
    if path == "/gone":
        assert state["state"] == "gone"


async def test_redirect_to_loopback_refused_unless_the_feed_is_there(farm: Farm,
                                                                     tmp_path: Path) -> None:
    target = farm.add("/real.xml", rss("Real", [("One", "https://a.example/1", "x")]))
    feed_url = farm.route("/to-local", 302, Location=target)

    async def public_127(host: str) -> bool:  # pretend the farm host is a public one
        return host == "localhost"

    local = target.replace("127.0.0.1", "localhost")
    farm.route("/to-localhost", 302, Location=local)
    store = SqliteStore(tmp_path / "s.db")
    refused = FeedScheduler(Poller(policy=HttpPolicy(host_min_delay=0),
                                   guard=AddressGuard(classify=public_127)), store)
    _, sink = await one_round(refused, [FeedSource(url=farm.base + "/to-localhost")])
    assert "redirect to internal address localhost refused" in str(
        store.feed_state(farm.base + "/to-localhost")["last_error"])
    allowed, _ = scheduler(tmp_path / "b")  # default guard: the feed itself is on loopback
    _, sink = await one_round(allowed, [FeedSource(url=feed_url)])
    assert [a.title for a in sink.articles[feed_url]] == ["One"]


async def test_permanent_redirect_updates_the_stored_url(farm: Farm, tmp_path: Path) -> None:
    target = farm.add("/new.xml", rss("New", [("One", "https://a.example/1", "x")]))
    feed = FeedSource(url=farm.route("/old.xml", 301, Location=target))
    sched, store = scheduler(tmp_path)
    await one_round(sched, [feed])
    await one_round(sched, [feed])
    assert store.feed_state(feed.url)["moved_to"] == target
    assert farm.hits["/old.xml"] == 1 and farm.hits["/new.xml"] == 2


async def test_wrong_declared_encodings(farm: Farm, tmp_path: Path) -> None:
    def text(n: int) -> bytes:
        item = ("Caf\u00e9 cr\u00e8me", f"https://a.example/{n}", "d\u00e9j\u00e0")
        return rss("Caf\u00e9", [item])
    lying_xml = farm.add("/latin.xml", text(1).replace(b"UTF-8", b"ISO-8859-1"))
    lying_http = farm.add("/http.xml", text(2), "application/xml; charset=iso-8859-1")
    cp1252 = farm.add("/cp.xml", text(3).decode().encode("cp1252"))  # says UTF-8, is not
    sched, store = scheduler(tmp_path)
    feeds = [FeedSource(url=u) for u in (lying_xml, lying_http, cp1252)]
    _, sink = await one_round(sched, feeds)
    for url in (lying_xml, lying_http, cp1252):
        assert sink.articles[url][0].title == "Caf\u00e9 cr\u00e8me", url
    assert "not well-formed" in str(store.feed_state(cp1252)["last_error"])
    assert store.feed_state(cp1252)["state"] == "ok"


ARTICLE = ("Harbour opening draws crowds", "The new harbour in Kalomiru opened on Thursday "
           "with ships from three countries, the port authority said in a statement.")


async def test_same_article_in_three_feeds_ingested_once(farm: Farm, tmp_path: Path) -> None:
    title, body = ARTICLE
    links = ["https://news.example/2024/harbour?utm_source=rss",
             "https://www.news.example/2024/harbour/amp/",  # AMP variant, www
             "https://syndicate.example/copy/991"]  # another URL, same text: fingerprint
    urls = [farm.add(f"/dup/{i}.xml", rss(f"Feed {i}", [(title, link, body)]))
            for i, link in enumerate(links)]
    settings = Settings(config_dir=tmp_path, data_dir=tmp_path / "data",
                        feeds=tuple(FeedSource(url=u, name=f"Outlet {i}")
                                    for i, u in enumerate(urls)),
                        host_min_delay=0)
    runtime = EmbeddedRuntime(settings)
    try:
        stats = await runtime.poll_round(force=True)
        articles = list(runtime.store.export())
        assert stats.processed == 1 and len(articles) == 1
        assert runtime.store.seen_in(articles[0].id) == sorted(urls) or set(
            runtime.store.seen_in(articles[0].id)) == set(urls)
        again = await runtime.poll_round(force=True)  # 304s: nothing new
        assert again.processed == 0 and len(list(runtime.store.export())) == 1
    finally:
        await runtime.close()


async def test_full_text_fetched_for_summary_only_entries(farm: Farm, tmp_path: Path) -> None:
    page = ("<html><head><title>Harbour</title></head><body><article><h1>Harbour opening"
            "</h1>" + "<p>The harbour in Kalomiru opened on Thursday with ships from three "
            "countries, officials said, and crowds lined the quay.</p>" * 8 +
            "</article></body></html>")
    link = farm.add("/page.html", page.encode(), "text/html; charset=utf-8")
    url = farm.add("/summary.xml", rss("S", [("Harbour opening", link, "Short summary.")]))
    sched, _ = scheduler(tmp_path)
    _, sink = await one_round(sched, [FeedSource(url=url, fetch_full_text=True)])
    raw = sink.articles[url][0]
    assert raw.html and "crowds lined the quay" in raw.html and raw.summary == "Short summary."


async def test_gzip_and_brotli(farm: Farm, tmp_path: Path) -> None:
    url = farm.add("/c.xml", rss("C", [("One", "https://a.example/1", "x")]))
    for encoding in ("gzip", "br"):
        sched, _ = scheduler(tmp_path / encoding)
        feed = FeedSource(url=url, headers={"Accept-Encoding": encoding})
        _, sink = await one_round(sched, [feed])
        assert [a.title for a in sink.articles[url]] == ["One"]
