"""``newswire explain`` shows the story decision: joined (score, shared evidence) or started
(the closest story, its score below the threshold, the conflicts), through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import newswire, newswire_json
from tests.e2e.test_seeds import write_config

QUAKES = [
    ("q1", "Magnitude 5.1 earthquake strikes Valdora",
     "A magnitude 5.1 earthquake struck Valdora on Monday, officials said. Three people were "
     "injured in Valdora and power was cut to 400 homes.", "2024-03-04T09:00:00Z"),
    ("q2", "Valdora quake: three injured as magnitude 5.1 tremor hits",
     "Three people were injured when a magnitude 5.1 earthquake hit Valdora on Monday. Power "
     "was cut to 400 homes in Valdora, officials said.", "2024-03-04T11:00:00Z"),
    ("q3", "Magnitude 6.3 earthquake strikes Marenza",  # two days later: in the window
     "A magnitude 6.3 earthquake struck Marenza on Wednesday, officials said. Twelve people "
     "were injured in Marenza and power was cut to 900 homes.", "2024-03-06T09:00:00Z"),
]


def test_explain_shows_why_an_article_joined_or_started_its_story(tmp_path: Path) -> None:
    config, data = write_config(tmp_path, []), tmp_path / "data"
    archive = tmp_path / "quakes.jsonl"
    archive.write_text("".join(json.dumps({"url": f"https://{k}.example/{k}", "title": t,
                                           "text": x, "published": p, "source": k}) + "\n"
                               for k, t, x, p in QUAKES))
    newswire(config, data, "ingest", str(archive))
    ids = {a["source"]: a["id"] for a in map(json.loads, newswire(
        config, data, "export").stdout.splitlines())}
    joined = newswire_json(config, data, "explain", ids["q2"])["story_evidence"]
    first = newswire_json(config, data, "explain", ids["q1"])
    assert joined["joined"] and joined["story"] == first["story_id"]
    assert joined["score"] >= joined["threshold"] and joined["shared"]
    apart = newswire_json(config, data, "explain", ids["q3"])["story_evidence"]
    assert not apart["joined"] and apart["story"] == first["story_id"]
    assert apart["score"] < apart["threshold"] and apart["conflicts"]
    text = newswire(config, data, "explain", ids["q3"]).stdout
    assert "started story" in text and "closest was" in text and "conflicts" in text
