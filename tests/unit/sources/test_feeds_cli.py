"""``newswire feeds`` health JSON, OPML import/export round trip, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.config.files import append_feeds
from pipeline.models import FeedSource
from pipeline.sources.health import HEALTH_FIELDS
from pipeline.sources.opml import read_opml, write_opml
from tests.conftest import newswire, newswire_json
from tests.unit.sources.farm import rss, serve

OPML = b"""<?xml version="1.0"?><opml version="1.0"><head><title>r</title></head><body>
<outline text="News"><outline text="Wire" xmlUrl="https://wire.example/rss"/>
<outline title="Courier" text="c" xmlURL="https://courier.example/feed.xml"/></outline>
<outline text="no feed here"/></body></opml>"""


def test_opml_round_trip(tmp_path: Path) -> None:
    feeds = read_opml(OPML)
    assert feeds == [{"url": "https://wire.example/rss", "name": "Wire"},
                     {"url": "https://courier.example/feed.xml", "name": "Courier"}]
    again = read_opml(write_opml([FeedSource(**f) for f in feeds]).encode())
    assert again == feeds
    yaml_file = tmp_path / "feeds.yaml"
    yaml_file.write_text("# my feeds\nfeeds:\n  - url: https://wire.example/rss\n")
    assert append_feeds(yaml_file, feeds) == feeds[1:]
    assert yaml_file.read_text().startswith("# my feeds\n")  # comments kept
    assert append_feeds(yaml_file, feeds) == []  # never twice


def test_cli_health_import_export(tmp_path: Path) -> None:
    config, data = tmp_path / "config", tmp_path / "data"
    config.mkdir()
    with serve(None) as farm:
        good = farm.add("/good.xml", rss("Good feed", [("One", "https://a.example/1",
                                                        "Plain text of the first item.")]))
        (config / "feeds.yaml").write_text(
            f"feeds:\n  - url: {good}\n  - url: {farm.base}/missing.xml\n    name: Missing\n")
        (config / "newswire.yaml").write_text("host_min_delay: 0\n")
        newswire(config, data, "run", "--once")
    rows = {r["url"]: r for r in newswire_json(config, data, "feeds")["feeds"]}
    assert all(set(HEALTH_FIELDS) <= set(r) for r in rows.values())
    assert rows[good]["state"] == "ok" and rows[good]["title"] == "Good feed"
    assert rows[good]["items_total"] == 1 and rows[good]["last_success"]
    missing = rows[f"{farm.base}/missing.xml"]
    assert missing["state"] == "failing" and missing["failures"] == 1
    assert missing["last_error"] == "HTTP 404 not found"

    opml = tmp_path / "subs.opml"
    opml.write_bytes(OPML)
    result = newswire(config, data, "feeds", "import", str(opml))
    assert "2 added" in result.stderr
    exported = newswire(config, data, "feeds", "export").stdout
    urls = [f["url"] for f in read_opml(exported.encode())]
    assert urls == [good, f"{farm.base}/missing.xml", "https://wire.example/rss",
                    "https://courier.example/feed.xml"]
    assert json.loads(newswire(config, data, "feeds", "--json").stdout)["feeds"][2]["state"] \
        == "new"
