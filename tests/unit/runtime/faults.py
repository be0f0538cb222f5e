"""Stage faults injected into the runtimes' tests (embedded and Kafka agents alike)."""

from __future__ import annotations

from typing import Any

from pipeline.processing.stages import Analysed, Stages


def failing_on(url: str, original: Any, error: Exception, times: int = 1_000) -> Any:
    """``original`` (a Stages method) that raises ``error`` for ``url`` after doing its work
    (so its state writes happened), at most ``times`` times."""
    left = [times]

    def stage(self: Stages, value: Any, *args: Any) -> Any:
        out = original(self, value, *args)
        article = value.article if isinstance(value, Analysed) else value
        if str(article.url) == url and left[0] > 0:
            left[0] -= 1
            raise error
        return out
    return stage
