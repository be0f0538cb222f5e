"""`alerts add/remove` edit alerts.yaml round trip: every comment of the file is kept, the
other rules are left as written (issue #16 item 6), through the real CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import REPO, newswire, newswire_json


def comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


def test_alerts_add_and_remove_keep_every_comment(tmp_path: Path) -> None:
    config, data = tmp_path / "config", tmp_path / "data"
    config.mkdir()
    shutil.copy(REPO / "config" / "topics.yaml", config / "topics.yaml")
    original = (REPO / "config" / "alerts.yaml").read_text()
    alerts = config / "alerts.yaml"
    alerts.write_text(original.replace("  - name: big-quake\n",
                                       "  # quakes: keep an eye on these\n"
                                       "  - name: big-quake  # tuned in March\n"))
    before = alerts.read_text()
    newswire(config, data, "alerts", "add", "tariffs", "--query", "tariff*",
             "--channel", "console")
    after_add = alerts.read_text()
    assert comments(after_add) == comments(before)
    assert after_add.startswith(before.rstrip("\n"))  # the rest untouched, byte for byte
    assert "  - name: tariffs\n    query: tariff*\n    channels: [console]\n" in after_add

    newswire(config, data, "alerts", "remove", "frozen-assets-moves")
    after_remove = alerts.read_text()
    assert comments(after_remove) == comments(before)
    assert "frozen-assets-moves" not in after_remove
    assert '    query: >-\n      (ukraine OR ukrainian' in after_remove  # folded query kept
    names = [r["name"] for r in newswire_json(config, data, "alerts", "list")["rules"]]
    assert names == ["ukraine-security-pact", "big-quake", "nato-daily", "tariffs"]

    newswire(config, data, "alerts", "add", "big-quake", "--query", "quake", "--replace")
    replaced = alerts.read_text()
    assert comments(replaced) == comments(before)  # the rule's own comments stay too
    names = [r["name"] for r in newswire_json(config, data, "alerts", "list")["rules"]]
    assert names == ["ukraine-security-pact", "big-quake", "nato-daily", "tariffs"]


def test_alerts_add_creates_a_missing_file(tmp_path: Path) -> None:
    config, data = tmp_path / "config", tmp_path / "data"
    config.mkdir()
    newswire(config, data, "alerts", "add", "first", "--query", "quake", "--mode", "digest",
             "--digest-at", "07:30")
    text = (config / "alerts.yaml").read_text()
    assert text.startswith("# Alert rules") and "- name: first" in text
    rules = newswire_json(config, data, "alerts", "list")["rules"]
    assert [(r["name"], r["digest_at"]) for r in rules] == [("first", "07:30")]
