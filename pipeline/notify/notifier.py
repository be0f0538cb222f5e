"""Alert channels behind one ``Notifier``; both runtimes deliver through it.

    Notifier.deliver(event)        one event, retried per the policy; raises DeliveryError
    Notifier.deliver_all(events)   every event, concurrently per (rule, channel), each within
                                   its deadline; sets state delivered / failed + the reason

Channel specs and their formats: ``spec`` (console, jsonl, webhook, slack, email, atom);
each spec's scheme names its ``Channel`` in ``registry``, and the notifier is the
``DeliveryContext`` it delivers with (data dir, console, HTTP client, settings, rules).
The runtime records each state: a pending alert is retried after a restart, a failed one
is dead-lettered with its reason (``newswire alerts log``).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import httpx

from pipeline.config.alerts import (
    ChannelSettings,
    RetryPolicy,
    SmtpSettings,
    build_channel_settings,
)
from pipeline.models import AlertEvent, AlertRule
from pipeline.notify.atom import atom_feed
from pipeline.notify.registry import channel_for, validate
from pipeline.notify.render import render
from pipeline.notify.spec import ChannelError, DeliveryError, DeliveryRejected, split

if TYPE_CHECKING:  # settings are built by pipeline.config; this module never reads them
    from pipeline.config.settings import Settings

__all__ = ["ChannelError", "ChannelSettings", "DeliveryError", "DeliveryRejected", "Notifier",
           "RetryPolicy", "SmtpSettings", "atom_feed", "build_channel_settings", "render"]
logger = logging.getLogger(__name__)


class Notifier:
    """Delivers alert events to the channel each names."""

    def __init__(self, base_dir: Path, out: TextIO | None = None,
                 client: httpx.AsyncClient | None = None, *,
                 rules: Iterable[AlertRule] = (), channels: ChannelSettings | None = None) -> None:
        self.base_dir = base_dir
        self.out = out or sys.stdout
        self.rules = {rule.name: rule for rule in rules}
        self.channels = channels or build_channel_settings(self.rules.values(), {})
        for key, name in self.channels.missing.items():
            logger.warning("webhook secret not set rule=%s env=%s", key.partition("\x1f")[0],
                           name)
        smtp = self.channels.smtp
        if smtp and smtp.password_env and self.channels.smtp_password is None:
            logger.warning("smtp password not set env=%s", smtp.password_env)
        self._client = client
        self._own_client: httpx.AsyncClient | None = None

    @classmethod
    def from_settings(cls, settings: Settings, out: TextIO | None = None,
                      client: httpx.AsyncClient | None = None) -> Notifier:
        """With the rules, their secrets and the SMTP server of ``config/alerts.yaml``."""
        return cls(settings.data_dir, out=out, client=client, rules=settings.rules,
                   channels=settings.channels)

    @staticmethod
    def validate(spec: str) -> str:
        return validate(spec)

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is not None:
            return self._client
        if self._own_client is None:
            self._own_client = httpx.AsyncClient(follow_redirects=False)
        return self._own_client

    async def aclose(self) -> None:
        if self._own_client is not None:
            await self._own_client.aclose()
            self._own_client = None

    async def deliver(self, event: AlertEvent) -> None:
        """Send one event (with retries for network channels); raise if it did not go."""
        await channel_for(event.channel).deliver(event, split(event.channel)[1], self)

    async def _deliver_recorded(self, event: AlertEvent) -> AlertEvent:
        counted = event.attempts
        try:
            await asyncio.wait_for(self.deliver(event), self.channels.delivery.deadline)
            event.state, event.error = "delivered", None
        except TimeoutError:
            event.state = "failed"
            event.error = f"timeout: not delivered within {self.channels.delivery.deadline:g}s"
        except Exception as exc:  # noqa: BLE001 - any channel failure is recorded
            event.state, event.error = "failed", f"{type(exc).__name__}: {exc}"
        if event.attempts == counted:  # a channel without retries (console, jsonl, atom)
            event.attempts += 1
        if event.state == "failed":
            logger.warning("alert dead-lettered rule=%s story=%s channel=%s error=%s",
                           event.rule, event.story_id, event.channel, event.error)
        return event

    async def deliver_all(
        self, events: Iterable[AlertEvent],
        on_done: Callable[[AlertEvent], Awaitable[None]] | None = None,
    ) -> list[AlertEvent]:
        """Deliver every event; (rule, channel) groups run concurrently, in order within a
        group, so a slow or failing channel holds up no other channel or rule. ``on_done``
        sees each event as soon as it is settled (to record it before the others end)."""
        groups: dict[tuple[str, str], list[AlertEvent]] = {}
        for event in events:
            groups.setdefault((event.rule, event.channel), []).append(event)

        async def run(group: list[AlertEvent]) -> list[AlertEvent]:
            settled = []
            for event in group:
                settled.append(await self._deliver_recorded(event))
                if on_done is not None:
                    await on_done(event)
            return settled

        done = await asyncio.gather(*(run(g) for g in groups.values()))
        return [event for group in done for event in group]
