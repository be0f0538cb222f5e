"""Every line of ../shared/seeds/EXPECTED.md, checked through the CLI as a user would.

The five seeds are wrapped in five feeds (one outlet each) served by a real local HTTP
server and run through `newswire run --once`; then the same through `newswire ingest` in
reversed order.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
import yaml

from tests.conftest import REPO, newswire, newswire_json

KEYS = ["000", "001", "002", "003", "004"]
TOPICS = {
    "000": {"security-pacts", "frozen-assets"},
    "001": {"security-pacts", "frozen-assets", "nato"},
    "002": {"security-pacts", "frozen-assets", "nato"},
    "003": {"security-pacts", "frozen-assets"},
    "004": {"security-pacts", "nato"},
}
WATCHED = {"security-pacts", "frozen-assets", "nato"}
# Junk named in EXPECTED.md: none of it may be left anywhere in any article's text.
JUNK_LINES = {"img", "image", "advertisement", "share", "comments"}
JUNK_PHRASES = ["Sign in to comment", "Powered by", "Remind me next month", "Privacy Policy",
                "By signing up", "©", "For more CNN news and newsletters", "Hannah Nightingale",
                "Support The Post Millennial", "date 2024-06-13"]
URL = "https://{key}.outlet.example/world/us-ukraine-pact-{key}"


def reporting(key: str, text: str) -> tuple[str | None, list[str]]:
    """(headline, reporting paragraphs) of a seed, following EXPECTED.md's description."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    headline = None
    if key == "000":
        lines = lines[: next(i for i, ln in enumerate(lines) if ln == "Sign in to comment")]
        lines = [ln for ln in lines if ln.lower() not in JUNK_LINES
                 and ln != "Hannah Nightingale Washington DC"]
        headline, lines = lines[0], list(dict.fromkeys(lines[1:]))
    if key == "002":
        headline, lines = lines[0], lines[1:-1]
    if key == "004":
        lines[0] = lines[0].removeprefix("date 2024-06-13").strip()
        lines = [re.sub(r"\s+Share$", "", ln) for ln in lines]
    return headline, lines


def sentences(paragraphs: list[str]) -> list[str]:
    out = []
    for para in paragraphs:
        out += [s.strip() for s in re.split(r"(?<=[.!?:])\s+", para) if len(s.strip()) > 3]
    return out


def squash(text: str) -> str:
    return " ".join(text.replace("’", "'").split())


def write_config(tmp: Path, feeds: list[dict[str, str]]) -> Path:
    config = tmp / "config"
    config.mkdir()
    shutil.copy(REPO / "config" / "topics.yaml", config / "topics.yaml")
    shipped = yaml.safe_load((REPO / "config" / "alerts.yaml").read_text())["rules"]
    rule = next(r for r in shipped if r["name"] == "ukraine-security-pact")
    rule["channels"] = ["jsonl:alerts.jsonl"]
    (config / "alerts.yaml").write_text(yaml.safe_dump({"rules": [rule]}))
    (config / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds}))
    return config


def feed_xml(key: str, text: str) -> str:
    hour = KEYS.index(key)
    pub = "" if key == "004" else f"<pubDate>Thu, 13 Jun 2024 0{hour}:00:00 GMT</pubDate>"
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Outlet {key}</title><link>https://{key}.outlet.example/</link>"
            f"<item><link>{URL.format(key=key)}</link><guid>{key}</guid>{pub}"
            f"<description>{escape(text)}</description></item></channel></rss>")


def by_key(articles: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {next(k for k in KEYS if URL.format(key=k).split("//")[1] in a["url"]): a
            for a in articles}


def export(config: Path, data: Path) -> dict[str, dict[str, Any]]:
    lines = newswire(config, data, "export").stdout.splitlines()
    return by_key([json.loads(line) for line in lines])


def check_everything(config: Path, data: Path, seeds: dict[str, str]) -> None:
    articles = export(config, data)
    assert sorted(articles) == KEYS

    # Text: every sentence of the reporting kept, in order, once; no junk anywhere.
    for key, article in articles.items():
        text = article["text"]
        for line in text.splitlines():
            assert line.strip().lower() not in JUNK_LINES, f"{key}: junk line {line!r} left"
        for phrase in JUNK_PHRASES:
            assert phrase not in text, f"{key}: junk {phrase!r} left in the text"
        assert not text.rstrip().endswith("Share"), f"{key}: trailing Share left"
        flat, cursor = squash(text), 0
        for sentence in sentences(reporting(key, seeds[key])[1]):
            found = flat.find(squash(sentence), cursor)
            assert found >= 0, f"{key}: sentence missing or out of order: {sentence!r}"
            assert flat.count(squash(sentence)) == 1, f"{key}: sentence repeated: {sentence!r}"
            cursor = found + 1

    # Metadata.
    assert articles["000"]["title"] == reporting("000", seeds["000"])[0]
    assert articles["002"]["title"] == reporting("002", seeds["002"])[0]
    assert articles["000"]["author"] == "Hannah Nightingale"
    assert articles["004"]["published"][:10] == "2024-06-13"

    # Topics.
    for key, article in articles.items():
        assert set(article["topics"]) & WATCHED == TOPICS[key], key
        assert all(article["evidence"][t] for t in TOPICS[key]), f"{key}: tag without evidence"

    # Story: one story, five articles from five sources, headline a real headline.
    stories = newswire_json(config, data, "stories")["stories"]
    ids = {a["id"] for a in articles.values()}
    story = next(s for s in stories if ids & set(s["article_ids"]))
    assert set(story["article_ids"]) == ids
    assert story["article_count"] == 5 and len(set(story["sources"])) == 5
    assert story["headline"] in {a["title"] for a in articles.values()}
    assert all(a["story_id"] == story["id"] for a in articles.values())

    # Search (stemming, phrases, booleans, topic field).
    def hits(query: str) -> set[str]:
        found = newswire_json(config, data, "search", query, "--limit", "50")["hits"]
        return {k for k, a in articles.items() if a["id"] in {h["id"] for h in found}}

    assert hits('"frozen assets"') == {"001", "002", "003"}
    assert hits("agreements") == set(KEYS)
    assert hits("pacts") == {"000", "001", "002"}
    assert hits("NATO AND membership") == {"001", "002", "004"}
    assert hits("topic:frozen-assets") == {"000", "001", "002", "003"}
    snippet = newswire_json(config, data, "search", '"frozen assets"')["hits"][0]["snippet"]
    assert "[[frozen]] [[assets]]" in snippet
    nato_hit = newswire_json(config, data, "search", "topic:nato")["hits"][0]
    nato = next(m for m in nato_hit["evidence"] if m["topic"] == "nato")
    assert any(word.lower() == "nato" for word, _s, _e in nato["evidence"])

    # Alerts: exactly one for the story, recorded and delivered.
    check_one_alert(config, data, story["id"])


def check_one_alert(config: Path, data: Path, story_id: str) -> None:
    fired = newswire_json(config, data, "alerts", "log")["alerts"]
    assert [(a["rule"], a["story_id"]) for a in fired] == [("ukraine-security-pact", story_id)]
    assert fired[0]["state"] == "delivered"
    delivered = (data / "alerts.jsonl").read_text().splitlines()
    assert len(delivered) == 1 and json.loads(delivered[0])["story_id"] == story_id


def test_seeds_through_feeds_over_http(seeds: dict[str, str], http_dir: tuple[Path, str],
                                       tmp_path: Path) -> None:
    root, base = http_dir
    feeds = []
    for key in KEYS:
        (root / f"{key}.xml").write_text(feed_xml(key, seeds[key]), encoding="utf-8")
        feeds.append({"url": f"{base}/{key}.xml", "name": f"Outlet {key}"})
    config, data = write_config(tmp_path, feeds), tmp_path / "data"
    newswire(config, data, "run", "--once")
    check_everything(config, data, seeds)
    before = export(config, data)

    newswire(config, data, "run", "--once")  # the same feeds again: nothing changes
    assert export(config, data) == before
    check_one_alert(config, data, before["000"]["story_id"])


@pytest.mark.parametrize("order", ["reversed"])
def test_seeds_through_ingest(seeds: dict[str, str], tmp_path: Path, order: str) -> None:
    archive = tmp_path / "seeds.jsonl"
    keys = list(reversed(KEYS))
    with archive.open("w") as fh:
        for key in keys:
            record: dict[str, Any] = {"url": URL.format(key=key), "text": seeds[key],
                                      "source": f"Outlet {key}"}
            if key != "004":
                record["published"] = f"2024-06-13T0{KEYS.index(key)}:00:00Z"
            fh.write(json.dumps(record) + "\n")
        fh.write("{not json\n")
        fh.write(json.dumps({"title": "no url"}) + "\n")
    config, data = write_config(tmp_path, []), tmp_path / "data"
    result = newswire(config, data, "ingest", str(archive))
    assert "line 6" in result.stderr and "line 7" in result.stderr and "'url'" in result.stderr
    check_everything(config, data, seeds)
    before = export(config, data)

    newswire(config, data, "ingest", str(archive))  # re-ingest: changes nothing
    assert export(config, data) == before
    check_one_alert(config, data, before["000"]["story_id"])
