"""Channel specs and delivery errors.

    console              print one line on stdout
    jsonl:PATH           append the event as one JSON line (PATH relative to the data dir)
    webhook:URL          JSON POST, signed (``X-Newswire-Signature: sha256=HEX``)
    slack:URL            Slack-compatible incoming webhook (``text`` + ``blocks``)
    email:ADDRESS[,..]   SMTP (server in alerts.yaml ``smtp:``), plain text + HTML, threaded
    atom[:PATH]          an Atom feed file per rule (default ``alerts/RULE.atom``)

A failed delivery raises ``DeliveryError``: ``SinkUnavailable`` (retryable: network,
timeouts, HTTP 429/5xx, SMTP 4xx) or ``DeliveryRejected`` (permanent: dead-letter it).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pipeline.errors import NewswireError, SinkUnavailable

KINDS = ("console", "jsonl", "webhook", "slack", "email", "atom")
_ADDRESS = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$|^[^@\s,]+@localhost$")
USAGE = ("use console, jsonl:PATH, webhook:URL, slack:URL, email:ADDRESS or atom[:PATH] "
         "(e.g. webhook:https://example.org/hook)")


class ChannelError(ValueError):
    """A channel spec that newswire does not understand."""


class DeliveryRejected(NewswireError):
    """The channel refused the alert for good (HTTP 4xx, SMTP 5xx, missing secret)."""


DeliveryError = (SinkUnavailable, DeliveryRejected)


def split(spec: str) -> tuple[str, str]:
    kind, _, target = spec.partition(":")
    return kind.strip().lower(), target.strip()


def validate(spec: str) -> str:
    """The spec unchanged if it is a channel newswire can deliver to; else ChannelError."""
    kind, target = split(spec)
    if kind not in KINDS:
        raise ChannelError(f"unknown alert channel {spec!r}: {USAGE}")
    if kind == "console" and target:
        raise ChannelError(f"channel {spec!r}: console takes no target")
    if kind == "jsonl" and not target:
        raise ChannelError(f"channel {spec!r}: jsonl needs a file, e.g. jsonl:alerts.jsonl")
    if kind in ("webhook", "slack"):
        url = urlsplit(target)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ChannelError(f"channel {spec!r}: {kind} needs an http(s) URL, e.g. "
                               f"{kind}:https://hooks.example.org/T000/B000")
    if kind == "email":
        addresses = [a.strip() for a in target.split(",") if a.strip()]
        bad = [a for a in addresses if not _ADDRESS.match(a)]
        if not addresses or bad:
            raise ChannelError(f"channel {spec!r}: email needs addresses, e.g. "
                               "email:desk@example.org (bad: " + ", ".join(bad or ["none"]) + ")")
    return spec
