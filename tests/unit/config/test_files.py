"""Round-trip edits of config files (pipeline/config/files.py): comments, indentation and
quoting of what the user wrote are kept; only the entry added or removed changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config.files import (
    alert_rules,
    append_feeds,
    delete_alert_rule,
    read_yaml,
    save_alert_rule,
    write_starter_config,
)
from pipeline.errors import ConfigError


@pytest.mark.parametrize("layout", ["feeds:\n- url: a.xml  # first\n",
                                    "feeds:\n    - url: a.xml  # first\n",
                                    "# none yet\nfeeds: []\n"])
def test_append_feeds_keeps_the_file_as_written(tmp_path: Path, layout: str) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(layout)
    added = append_feeds(path, [{"url": "https://b.example/rss", "name": "B", "group": "W"}])
    text = path.read_text()
    assert added and text.startswith(layout.rstrip("\n").removesuffix(" []"))
    assert read_yaml(path)["feeds"][-1] == {"url": "https://b.example/rss", "name": "B",
                                            "group": "W"}


def test_alert_rules_edit_in_place(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text('# top\nsmtp: {host: h}  # server\nrules:\n  # one\n  - name: a\n'
                    '    query: x\n    digest_at: "07:00"\n  - name: b\n    query: y\n')
    save_alert_rule(path, {"name": "a", "query": "z", "channels": ["console"]})
    save_alert_rule(path, {"name": "c", "query": "yes", "channels": ["console"]})
    assert delete_alert_rule(path, "b") and not delete_alert_rule(path, "b")
    text = path.read_text()
    assert "# top" in text and "# server" in text and "# one" in text
    assert [r["name"] for r in alert_rules(path)] == ["a", "c"]
    assert alert_rules(path)[1]["query"] == "yes"  # quoted: YAML 1.1 reads yes as true
    assert read_yaml(path)["smtp"] == {"host": "h"}


def test_a_broken_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text("rules: [\n")
    with pytest.raises(ConfigError, match="alerts.yaml: not valid YAML"):
        save_alert_rule(path, {"name": "a", "query": "x"})


def test_starter_config_refuses_to_overwrite(tmp_path: Path) -> None:
    assert len(write_starter_config(tmp_path / "c")) == 6
    with pytest.raises(ConfigError, match="will not overwrite"):
        write_starter_config(tmp_path / "c")
