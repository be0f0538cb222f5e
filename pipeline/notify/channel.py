"""The ``Channel`` protocol: one class per scheme (``console``, ``jsonl``, ``webhook``,
``slack``, ``email``, ``atom``), found by scheme in ``registry``.

    scheme                            "webhook" in "webhook:https://…"
    validate(target)                  raises ChannelError (with an example of a good spec)
    await deliver(event, target, ctx) one delivery, retried inside if the channel retries;
                                      raises SinkUnavailable or DeliveryRejected

``DeliveryContext`` is what a channel may use; ``Notifier`` provides it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, TextIO

import httpx

from pipeline.config.alerts import ChannelSettings
from pipeline.models import AlertEvent, AlertRule


class DeliveryContext(Protocol):
    @property
    def base_dir(self) -> Path:
        """Where relative paths (``jsonl:``, ``atom:``) point: the data dir."""

    @property
    def out(self) -> TextIO:
        """The console."""

    @property
    def client(self) -> httpx.AsyncClient:
        """The shared HTTP client (created on first use)."""

    @property
    def channels(self) -> ChannelSettings:
        """Retry policy, SMTP server and password, webhook secrets."""

    @property
    def rules(self) -> Mapping[str, AlertRule]:
        """The alert rules by name."""


class Channel(Protocol):
    scheme: str

    def validate(self, target: str) -> None: ...

    async def deliver(self, event: AlertEvent, target: str, context: DeliveryContext) -> None: ...


def local_path(context: DeliveryContext, target: str) -> Path:
    """``target`` as a file path; a relative one is under the data dir."""
    path = Path(target)
    return path if path.is_absolute() else context.base_dir / path
