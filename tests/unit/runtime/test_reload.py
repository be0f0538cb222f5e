"""Alert rules and topics reloaded by a running process (issue #16 item 3): a valid edit
takes effect, an invalid one is refused with a message naming the file and the previous
rules stay in force; SIGHUP reloads; the embedded runtime rebuilds its stages."""

from __future__ import annotations

import logging
import os
import shutil
import signal
from pathlib import Path

import pytest

from pipeline.config.settings import load_settings
from pipeline.runtime.embedded import EmbeddedRuntime
from pipeline.runtime.reload import ConfigWatch
from tests.conftest import REPO

RULE = "rules:\n  - name: {name}\n    query: '{query}'\n    channels: [console]\n"


def config(tmp_path: Path) -> Path:
    path = tmp_path / "config"
    shutil.copytree(REPO / "config", path)
    (path / "alerts.yaml").write_text(RULE.format(name="first", query="harbour"),
                                      encoding="utf-8")
    return path


def edit(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))  # a changed mtime, however coarse


def test_a_valid_edit_is_taken_up_and_an_invalid_one_refused(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = config(tmp_path)
    watch = ConfigWatch(load_settings(cfg, env={}, data_dir=tmp_path / "data"))
    assert not watch.poll()  # nothing changed
    edit(cfg / "alerts.yaml", RULE.format(name="second", query="ferry OR pier"))
    assert watch.poll() and watch.generation == 1
    assert [r.name for r in watch.settings.rules] == ["second"]
    assert watch.settings.data_dir == tmp_path / "data"  # the rest of the settings stays

    with caplog.at_level(logging.ERROR):
        edit(cfg / "alerts.yaml", RULE.format(name="third", query="ferry AND ("))
        assert not watch.poll()
    assert [r.name for r in watch.settings.rules] == ["second"] and watch.generation == 1
    refusal = " ".join(r.getMessage() for r in caplog.records)
    assert "config reload refused" in refusal and "alerts.yaml" in refusal

    edit(cfg / "alerts.yaml", "rules:\n  - name: [not, a, name]\n")  # not even a rule
    assert not watch.poll() and [r.name for r in watch.settings.rules] == ["second"]


def test_sighup_reloads_even_when_the_file_looks_unchanged(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    watch = ConfigWatch(load_settings(cfg, env={}, data_dir=tmp_path / "data"))
    stamp = (cfg / "alerts.yaml").stat()
    (cfg / "alerts.yaml").write_text(RULE.format(name="other", query="pier"), encoding="utf-8")
    os.utime(cfg / "alerts.yaml", ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    watch.stamps = watch._stamps()  # an edit the mtime check cannot see
    assert not watch.poll()
    previous = signal.getsignal(signal.SIGHUP)
    try:
        watch.on_sighup()
        os.kill(os.getpid(), signal.SIGHUP)
        assert watch.poll()
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert [r.name for r in watch.settings.rules] == ["other"]


async def test_the_embedded_runtime_rebuilds_its_stages(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    runtime = EmbeddedRuntime(load_settings(cfg, env={}, data_dir=tmp_path / "data"))
    try:
        assert [r.name for r in runtime.stages.alerts.rules] == ["first"]
        edit(cfg / "alerts.yaml", RULE.format(name="second", query="ferry"))
        assert runtime.reload_config()
        assert [r.name for r in runtime.stages.alerts.rules] == ["second"]
        assert set(runtime.notifier.rules) == {"second"}
        edit(cfg / "alerts.yaml", RULE.format(name="third", query="ferry AND ("))
        assert not runtime.reload_config()
        assert [r.name for r in runtime.stages.alerts.rules] == ["second"]
    finally:
        await runtime.close()
