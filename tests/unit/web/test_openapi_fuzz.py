"""Schemathesis against the app's own OpenAPI description: no answer is a 5xx.

Bounded: a few dozen generated cases per operation, so it runs in seconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from pipeline.config.settings import load_settings
from pipeline.storage.sqlite.store import SqliteStore
from pipeline.web.app import create_app
from tests.unit.web.conftest import ARTICLES, story_of


def _app(tmp: Path):  # type: ignore[no-untyped-def]
    (tmp / "config").mkdir(parents=True, exist_ok=True)
    cfg = load_settings(tmp / "config", data_dir=tmp / "data", env={})
    store = SqliteStore(cfg.db_path)
    for a in ARTICLES:
        store.put_article(a)
    for sid in ("s-pact", "s-quake", "s-evil"):
        store.put_story(story_of(sid))
    return create_app(store, cfg)


def _schema() -> schemathesis.BaseSchema:
    import tempfile

    return schemathesis.openapi.from_asgi("/openapi.json",
                                          _app(Path(tempfile.mkdtemp(prefix="nw-fuzz-"))))


SCHEMA = _schema()
OPERATIONS = [op.ok() for op in SCHEMA.get_all_operations()]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_no_server_errors(operation: Any) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=[not_a_server_error])

    check()
