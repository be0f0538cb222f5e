"""The bundled sample feeds read clean on a first run: no "not well-formed (no Content-type
specified)" (a local file gets the type a server would declare) and not "stale" (a local
file changes when someone edits it, so its silence is not news)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import REPO, newswire, newswire_json


def test_sample_feeds_are_ok_after_the_first_run(tmp_path: Path) -> None:
    config, data = tmp_path / "config", tmp_path / "data"
    config.mkdir()
    shutil.copytree(REPO / "config" / "samples", config / "samples")
    shutil.copy(REPO / "config" / "topics.yaml", config / "topics.yaml")
    (config / "feeds.yaml").write_text(
        "feeds:\n  - url: samples/sample-feed.xml\n  - url: samples/sample-feed-2.xml\n")
    newswire(config, data, "run", "--once")
    feeds = newswire_json(config, data, "feeds")["feeds"]
    assert [(f["state"], f["last_error"]) for f in feeds] == [("ok", None), ("ok", None)]
    assert all(f["items_total"] for f in feeds)
