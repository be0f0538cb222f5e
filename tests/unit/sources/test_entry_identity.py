"""Entries without a link of their own become articles: identity from the GUID, else the
content; the article shows its feed's site link (or nothing) where a URL would be."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pipeline.cli.app import app as cli
from pipeline.config.settings import Settings
from pipeline.identity import article_id
from pipeline.models import FeedSource, RawArticle
from pipeline.runtime.embedded import EmbeddedRuntime
from pipeline.sources.jsonfeed import Parsed
from pipeline.sources.parse import entries_to_articles, parse_feed
from pipeline.web.app import create_app

PROSE = ("The community gathered in the old library on Saturday to hear how the new "
         "release came together over six months of work by volunteers in nine countries. ")

PLANET = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Planet GNOME</title><link href="https://planet.gnome.example/"/>
  <id>https://planet.gnome.example/</id><updated>2024-06-13T10:00:00Z</updated>
  <entry><title>Release notes, part one</title>
    <id>tag:blogs.gnome.example,2024:post-1</id><updated>2024-06-13T10:00:00Z</updated>
    <content type="html">&lt;p&gt;{PROSE * 3}&lt;/p&gt;</content></entry>
  <entry><title>Release notes, part two</title>
    <id>tag:blogs.gnome.example,2024:post-2</id><updated>2024-06-13T11:00:00Z</updated>
    <content type="html">&lt;p&gt;{PROSE * 2} Part two adds the translators.&lt;/p&gt;</content>
  </entry>
</feed>"""

GUID_ONLY = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>No links</title>
<item><title>First</title><guid isPermaLink="false">post-1</guid>
  <description>{PROSE} The first item.</description></item>
<item><title>Second</title><guid isPermaLink="false">post-2</guid>
  <description>{PROSE} The second item.</description></item>
<item><title>Third</title><description>{PROSE} Neither a link nor a guid.</description></item>
<item></item>
</channel></rss>"""


def _raws(content: str | bytes, url: str) -> list[RawArticle | tuple[str, str]]:
    data = content.encode() if isinstance(content, str) else content
    return list(entries_to_articles(parse_feed(data, url), FeedSource(url=url)))


def test_tag_ids_without_links_are_identified_by_the_guid() -> None:
    raws = _raws(PLANET, "https://planet.gnome.example/atom.xml")
    assert all(isinstance(r, RawArticle) for r in raws)
    first = raws[0]
    assert isinstance(first, RawArticle) and first.url is None
    assert first.site_url == "https://planet.gnome.example/"
    assert first.id == article_id(None, "tag:blogs.gnome.example,2024:post-1")


def test_feed_local_guids_are_scoped_by_feed_and_bare_items_hashed() -> None:
    one = _raws(GUID_ONLY, "https://a.example/feed.xml")
    two = _raws(GUID_ONLY, "https://b.example/feed.xml")
    ids = [r.id for r in one if isinstance(r, RawArticle)]
    assert len(ids) == 3 and len(set(ids)) == 3
    others = [r.id for r in two if isinstance(r, RawArticle)]
    assert not set(others[:2]) & set(ids[:2])  # "post-1" in two feeds: two articles
    assert others[2] == ids[2]  # the same text without link or guid: one article
    entry, reason = one[3]  # type: ignore[misc]
    assert entry.startswith("https://a.example/feed.xml :: ") and "no link" in reason


def test_relative_links_resolve_against_the_feed() -> None:
    rss = (b'<rss version="2.0"><channel><title>R</title><link>https://blog.example/</link>'
           b"<item><title>T</title><link>/posts/1</link><description>x</description></item>"
           b"</channel></rss>")
    (http,) = _raws(rss, "https://blog.example/feed.xml")
    assert isinstance(http, RawArticle) and http.link == "https://blog.example/posts/1"
    jsonfeed = json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": "J",
        "home_page_url": "https://j.example/blog/",
        "items": [{"id": "7", "url": "posts/7", "content_text": "Seven."},
                  {"id": "8", "content_text": "No url at all."},
                  {"id": "9", "url": "javascript:alert(1)", "content_text": "Not a link."}]})
    seven, eight, nine = _raws(jsonfeed, "https://j.example/feed.json")
    assert isinstance(seven, RawArticle) and seven.link == "https://j.example/blog/posts/7"
    assert isinstance(eight, RawArticle) and eight.url is None and eight.id
    assert isinstance(nine, RawArticle) and nine.url is None and nine.id != eight.id


def test_a_link_pydantic_refuses_leaves_the_entry_to_its_guid() -> None:
    parsed = Parsed(feed={"title": "F"}, entries=[
        {"title": "Odd", "link": "http://exa mple.com/x", "id": "tag:x,2024:1",
         "summary": "Text."},
        {"title": "Port", "link": "http://example.com:99999/x", "id": "tag:x,2024:2",
         "summary": "Text."}])
    raws = list(entries_to_articles(parsed, FeedSource(url="https://f.example/rss")))
    assert [r.url for r in raws if isinstance(r, RawArticle)] == [None, None]


async def test_reused_guid_with_other_text_is_another_article(tmp_path: Path) -> None:
    feed = tmp_path / "reuse.xml"
    feed.write_text(f"""<rss version="2.0"><channel><title>Reuse</title>
<item><link>https://r.example/a#1</link><guid>https://r.example/a#1</guid>
  <description>Good morning!</description></item>
<item><link>https://r.example/a#1</link><guid>https://r.example/a#1</guid>
  <description>{PROSE}</description></item>
<item><link>https://r.example/a#1</link><guid>https://r.example/a#1</guid>
  <description>{PROSE}</description></item>
</channel></rss>""")
    runtime = EmbeddedRuntime(Settings(config_dir=tmp_path, data_dir=tmp_path / "data",
                                       feeds=(FeedSource(url=str(feed)),)))
    try:
        stats = await runtime.poll_round(force=True)
        texts = sorted(a.text for a in runtime.store.export())
        assert stats.processed == 2 and texts == ["Good morning!", PROSE.strip()]
    finally:
        await runtime.close()


@pytest.fixture
async def ingested(tmp_path: Path) -> Settings:
    planet, guids = tmp_path / "planet.xml", tmp_path / "guids.xml"
    planet.write_text(PLANET)
    guids.write_text(GUID_ONLY)
    settings = Settings(config_dir=tmp_path, data_dir=tmp_path / "data",
                        feeds=(FeedSource(url=str(planet)), FeedSource(url=str(guids))))
    runtime = EmbeddedRuntime(settings)
    try:
        assert (await runtime.poll_round(force=True)).processed == 5
        again = await runtime.poll_round(force=True)  # unchanged: nothing new, none twice
        assert again.processed == 0 and len(list(runtime.store.export())) == 5
        (letter,) = runtime.store.dead_letters()  # the empty item, naming feed and entry
        assert letter.stage == "poll" and str(guids) in letter.payload
    finally:
        await runtime.close()
    return settings


def test_linkless_articles_show_the_feed_link_or_nothing(ingested: Settings) -> None:
    from pipeline.storage.sqlite.store import SqliteStore

    store = SqliteStore(ingested.db_path)
    try:
        articles = {a.title: a for a in store.export()}
        planet = articles["Release notes, part one"]
        assert planet.url is None and planet.link == "https://planet.gnome.example/"
        assert articles["First"].url is None and articles["First"].link is None
        client = TestClient(create_app(store, ingested))
        page = client.get("/", params={"q": "library"})
        assert page.status_code == 200 and "Release notes, part two" in page.text
        assert 'href="https://planet.gnome.example/"' in page.text
        hits = client.get("/api/search", params={"q": "library"}).json()
        assert {h["url"] for h in hits["hits"]} == {"https://planet.gnome.example/", None}
        story = client.get(f"/story/{articles['First'].story_id}")
        assert story.status_code == 200 and "First" in story.text
    finally:
        store.close()
    out = CliRunner().invoke(cli, ["--config", str(ingested.config_dir), "--data-dir",
                                   str(ingested.data_dir), "export"])
    assert out.exit_code == 0, out.output
    urls = {json.loads(line)["title"]: json.loads(line)["url"] for line in out.stdout.splitlines()}
    assert urls["Release notes, part one"] == "https://planet.gnome.example/"
    assert urls["Third"] is None
