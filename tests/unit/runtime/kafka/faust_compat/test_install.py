"""The fence around faust's internals: applied once, at app creation, and only on the
faust-streaming version it was written for (the same range pyproject.toml pins)."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from faust.transport.consumer import Consumer

from pipeline.errors import ConfigError
from pipeline.runtime.kafka import faust_compat
from pipeline.runtime.kafka.faust_compat import offsets
from pipeline.runtime.kafka.topics import StreamConfig, create_app
from tests.conftest import REPO


@pytest.mark.parametrize("version", ["0.14.9", "0.16.0", "1.0.0", "0.11.3"])
def test_unsupported_faust_versions_are_refused_naming_both(version: str) -> None:
    with pytest.raises(ConfigError) as refused:
        faust_compat.check_version(version)
    message = str(refused.value)
    assert version in message and faust_compat.SUPPORTED in message


def test_the_installed_faust_is_supported() -> None:
    installed = importlib.metadata.version("faust-streaming")
    assert faust_compat.check_version() == installed
    assert faust_compat.check_version("0.15.0") == "0.15.0"


def test_an_app_is_not_created_on_an_unsupported_faust(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    applied: list[bool] = []
    monkeypatch.setattr(faust_compat, "_installed", False)
    monkeypatch.setattr(faust_compat, "faust_version", lambda: "0.16.2")
    monkeypatch.setattr(offsets, "apply", lambda: applied.append(True))
    with pytest.raises(ConfigError, match="faust-streaming 0.16.2 is installed"):
        create_app(StreamConfig(prefix="unit", datadir=tmp_path))
    assert applied == []  # nothing patched


def test_install_is_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    applied: list[bool] = []
    original = offsets.apply
    monkeypatch.setattr(faust_compat, "_installed", False)
    monkeypatch.setattr(offsets, "apply", lambda: applied.append(True) or original())
    faust_compat.install()
    patched = Consumer._new_offset
    faust_compat.install()
    assert applied == [True]
    assert Consumer._new_offset is patched
    original()  # and the patches themselves apply once: not wrapped twice
    assert Consumer._new_offset is patched


def test_creating_an_app_installs_the_fixes(tmp_path: Path) -> None:
    create_app(StreamConfig(prefix="unit", datadir=tmp_path))
    assert faust_compat._installed
    assert Consumer._add_gap.__name__ == "no_gap"


def test_pyproject_pins_the_supported_range() -> None:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    [pin] = [d for d in deps if re.match(r"faust-streaming\b", d)]
    assert pin.replace(" ", "") == f"faust-streaming{faust_compat.SUPPORTED}"
