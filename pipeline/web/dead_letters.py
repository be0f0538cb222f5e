"""The dead letters on the page and in the API (``/dead-letters``, ``/api/dead-letters``).

The web app is given a search store; its dead letters are in the same SQLite file, or in
the ``<prefix>-dead`` index beside the Kafka backend's articles (``dead_store_of``).
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel

from pipeline.storage.base import SearchStore
from pipeline.storage.dead import DeadLetterStore, DeadRow

logger = logging.getLogger(__name__)


class DeadLettersView(BaseModel):
    """``newswire dead-letters --json``: newest first."""

    dead_letters: list[DeadRow]


def dead_store_of(store: SearchStore) -> DeadLetterStore | None:
    """The dead letters next to ``store`` (None: this store keeps none)."""
    if hasattr(store, "dead_rows"):
        found: DeadLetterStore = store  # type: ignore[assignment]
        return found
    client: Any = getattr(store, "client", None)
    names: Any = getattr(store, "names", None)
    if client is not None and names is not None:
        from pipeline.storage.elasticsearch.dead import DeadLetterIndex

        return DeadLetterIndex(client, names.prefix)
    return None


def held_counts(dead: DeadLetterStore | None) -> dict[tuple[str, str], int]:
    """Letters held per (stage, reason class); empty (logged) when the store fails, so
    ``/metrics`` still answers."""
    if dead is None:
        return {}
    try:
        return dead.dead_counts()
    except Exception as exc:  # noqa: BLE001 - metrics must answer whatever the store does
        logger.warning("dead-letter counts unavailable: %s", exc)
        return {}
