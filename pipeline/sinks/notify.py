"""Alert channels. A channel spec is ``console``, ``jsonl:PATH`` or ``webhook:URL``.

Delivery raises on failure; the runtime records the state (delivered / failed with the
reason) and retries pending alerts after a restart.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

import httpx

from pipeline.models import AlertEvent


class ChannelError(ValueError):
    """A channel spec that newswire does not understand."""


def render(event: AlertEvent) -> str:
    return f"ALERT [{event.rule}] {event.headline} (story {event.story_id})"


class Notifier:
    """Delivers alert events to the channel each names."""

    def __init__(self, base_dir: Path, out: TextIO | None = None,
                 client: httpx.AsyncClient | None = None) -> None:
        self.base_dir = base_dir
        self.out = out or sys.stdout
        self.client = client

    @staticmethod
    def validate(spec: str) -> str:
        kind, _, target = spec.partition(":")
        if kind == "console" and not target:
            return spec
        if kind in ("jsonl", "webhook") and target:
            return spec
        raise ChannelError(f"unknown alert channel {spec!r}: use console, jsonl:PATH or "
                           "webhook:URL")

    async def deliver(self, event: AlertEvent) -> None:
        kind, _, target = event.channel.partition(":")
        if kind == "console":
            print(render(event), file=self.out, flush=True)
        elif kind == "jsonl":
            path = Path(target) if Path(target).is_absolute() else self.base_dir / target
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(event.model_dump_json(exclude={"state", "error"}) + "\n")
        elif kind == "webhook":
            client = self.client or httpx.AsyncClient(timeout=10)
            try:
                response = await client.post(target, content=json.dumps(
                    json.loads(event.model_dump_json())), headers={
                    "Content-Type": "application/json"})
                response.raise_for_status()
            finally:
                if self.client is None:
                    await client.aclose()
        else:
            raise ChannelError(f"unknown alert channel {event.channel!r}")
