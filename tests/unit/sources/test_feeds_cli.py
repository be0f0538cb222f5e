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
    assert feeds == [{"url": "https://wire.example/rss", "name": "Wire", "group": "News"},
                     {"url": "https://courier.example/feed.xml", "name": "Courier",
                      "group": "News"}]
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


MESSY_OPML = b"""<?xml version="1.0"?><opml version="2.0"><head><title>r</title></head><body>
<outline text="World"><outline text="Europe">
  <outline text="Wire again" xmlUrl="HTTPS://Wire.Example:443/rss/"/>
  <outline text="Euro Desk" xmlUrl="https://euro.example/feed"/></outline>
  <outline text="Files" xmlUrl="ftp://files.example/feed.xml"/></outline>
<outline text="Evil" xmlUrl="javascript:alert(1)"/>
<outline text="Sample again" xmlUrl="file://SAMPLE"/>
<outline text="Loose" xmlUrl="http://loose.example/a"/></body></opml>"""


def test_import_checks_dedupes_and_keeps_groups_and_comments(tmp_path: Path) -> None:
    """Issue #16 item 6: refused URLs named, valid ones kept, folders as groups, a feed
    already listed under another spelling not added twice, comments kept, and every
    command still works afterwards; export writes URLs that import again."""
    config, data = tmp_path / "config", tmp_path / "data"
    config.mkdir()
    sample = config / "local.xml"
    sample.write_bytes(rss("Local", [("One", "https://a.example/1", "Text of one.")]))
    feeds_yaml = config / "feeds.yaml"
    feeds_yaml.write_text("# my feeds, hand-written\nfeeds:\n  # the wire\n"
                          "  - url: https://wire.example/rss\n    name: Wire  # keep\n"
                          "  - url: local.xml\n")
    opml = tmp_path / "subs.opml"
    opml.write_bytes(MESSY_OPML.replace(b"SAMPLE", str(sample).encode()))
    result = newswire(config, data, "feeds", "import", str(opml))
    assert "outline 'Files'" in result.stderr and "ftp://files.example" in result.stderr
    assert "outline 'Evil'" in result.stderr and "javascript:alert(1)" in result.stderr
    assert "2 added" in result.stderr and "2 already listed" in result.stderr
    text = feeds_yaml.read_text()
    for comment in ("# my feeds, hand-written", "# the wire", "name: Wire  # keep"):
        assert comment in text
    listed = newswire_json(config, data, "feeds")["feeds"]  # the config still loads
    assert [r["url"] for r in listed][2:] == ["https://euro.example/feed",
                                              "http://loose.example/a"]
    again = newswire(config, data, "feeds", "import", str(opml))
    assert "0 added" in again.stderr  # never twice

    exported = newswire(config, data, "feeds", "export").stdout
    back = read_opml(exported.encode())
    assert back[1]["url"] == sample.resolve().as_uri()  # a path becomes a file:// URL
    assert {"url": "https://euro.example/feed", "name": "Euro Desk",
            "group": "World/Europe"} in back
    other = tmp_path / "other"
    other.mkdir()
    (other / "feeds.yaml").write_text("feeds: []\n")
    (tmp_path / "exported.opml").write_text(exported)
    result = newswire(other, data, "feeds", "import", str(tmp_path / "exported.opml"))
    assert "4 added" in result.stderr and "0 refused" in result.stderr
    newswire(other, data, "feeds", "--json")


def test_only_refused_outlines_exit_1(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    opml = tmp_path / "bad.opml"
    opml.write_bytes(b'<opml version="2.0"><body><outline text="F" xmlUrl="ftp://x/y"/>'
                     b"</body></opml>")
    result = newswire(config, tmp_path / "data", "feeds", "import", str(opml), check=False)
    assert result.returncode == 1 and "outline 'F'" in result.stderr
    assert not (config / "feeds.yaml").exists()
