"""The one failure policy of both runtimes: retry the retryable, dead-letter the rest."""

from __future__ import annotations

import logging

import pytest

from pipeline.errors import FetchError, InvalidInput, SinkUnavailable
from pipeline.runtime.failures import DEFAULT_RETRY_AFTER, Failed, attempt, attempt_sync


class Flaky:
    """Raises each of ``errors`` once, in turn, then returns its argument."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self, value: str) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return value


async def test_retryable_errors_are_retried_until_the_stage_succeeds() -> None:
    stage = Flaky(SinkUnavailable("es down", retry_after=0), SinkUnavailable("still", 0))
    assert await attempt("index", stage, "ok") == "ok"
    assert stage.calls == 3


def test_the_sync_form_waits_retry_after_or_the_default() -> None:
    waits: list[float] = []
    stage = Flaky(SinkUnavailable("es down", retry_after=2.5), FetchError("timeout"))
    assert attempt_sync("clean", stage, "ok", sleep=waits.append) == "ok"
    assert waits == [2.5, DEFAULT_RETRY_AFTER]


async def test_poison_input_becomes_a_dead_letter_reason() -> None:
    with pytest.raises(Failed) as failed:
        await attempt("clean", Flaky(InvalidInput("no body")), "x")
    assert str(failed.value) == "InvalidInput: no body"


@pytest.mark.parametrize("form", ["async", "sync"])
async def test_any_other_exception_is_a_dead_letter_logged_with_its_traceback(
        form: str, caplog: pytest.LogCaptureFixture) -> None:
    stage = Flaky(RuntimeError("bug on this input"))
    with caplog.at_level(logging.ERROR), pytest.raises(Failed) as failed:
        if form == "async":
            await attempt("enrich", stage, "x")
        else:
            attempt_sync("enrich", stage, "x")
    assert str(failed.value) == "RuntimeError: bug on this input"
    assert stage.calls == 1  # not retried
    logged = [r for r in caplog.records if "stage=enrich" in r.getMessage()]
    assert logged and logged[0].exc_info is not None
