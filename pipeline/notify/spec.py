"""Channel specs (``SCHEME[:TARGET]``), the check of each built-in scheme's target, and
delivery errors.

    console              print one line on stdout
    jsonl:PATH           append the event as one JSON line (PATH relative to the data dir)
    webhook:URL          JSON POST, signed (``X-Newswire-Signature: sha256=HEX``)
    slack:URL            Slack-compatible incoming webhook (``text`` + ``blocks``)
    email:ADDRESS[,..]   SMTP (server in alerts.yaml ``smtp:``), plain text + HTML, threaded
    atom[:PATH]          an Atom feed file per rule (default ``alerts/RULE.atom``)

This module is pure (no channel, no configuration), so ``pipeline.config`` validates specs
with it at load time; each channel class (``registry``) reuses its scheme's check here.

A failed delivery raises ``DeliveryError``: ``SinkUnavailable`` (retryable: network,
timeouts, HTTP 429/5xx, SMTP 4xx) or ``DeliveryRejected`` (permanent: dead-letter it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urlsplit

from pipeline.errors import NewswireError, SinkUnavailable

Check = Callable[[str], None]  # a target check: returns, or raises ChannelError
_ADDRESS = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$|^[^@\s,]+@localhost$")
_EXAMPLES = "e.g. webhook:https://example.org/hook or jsonl:alerts.jsonl"


class ChannelError(ValueError):
    """A channel spec that newswire does not understand."""


class DeliveryRejected(NewswireError):
    """The channel refused the alert for good (HTTP 4xx, SMTP 5xx, missing secret)."""


DeliveryError = (SinkUnavailable, DeliveryRejected)


def split(spec: str) -> tuple[str, str]:
    """``(scheme, target)``: the scheme lower-cased, both stripped."""
    kind, _, target = spec.partition(":")
    return kind.strip().lower(), target.strip()


def check_console(target: str) -> None:
    if target:
        raise ChannelError("console takes no target")


def check_jsonl(target: str) -> None:
    if not target:
        raise ChannelError("jsonl needs a file, e.g. jsonl:alerts.jsonl")


def check_url(scheme: str, target: str) -> None:
    url = urlsplit(target)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ChannelError(f"{scheme} needs an http(s) URL, e.g. "
                           f"{scheme}:https://hooks.example.org/T000/B000")


def check_email(target: str) -> None:
    addresses = [a.strip() for a in target.split(",") if a.strip()]
    bad = [a for a in addresses if not _ADDRESS.match(a)]
    if not addresses or bad:
        raise ChannelError("email needs addresses, e.g. email:desk@example.org (bad: "
                           + ", ".join(bad or ["none"]) + ")")


def check_atom(target: str) -> None:
    """Any path, or none (``alerts/RULE.atom``)."""


CHECKS: Mapping[str, Check] = {
    "console": check_console,
    "jsonl": check_jsonl,
    "webhook": lambda target: check_url("webhook", target),
    "slack": lambda target: check_url("slack", target),
    "email": check_email,
    "atom": check_atom,
}
KINDS = tuple(CHECKS)


def usage(schemes: Iterable[str]) -> str:
    return f"known channels are {', '.join(schemes)} ({_EXAMPLES})"


def unknown(spec: str, schemes: Iterable[str]) -> ChannelError:
    return ChannelError(f"unknown alert channel {spec!r}: {usage(schemes)}")


USAGE = usage(KINDS)


def validate(spec: str, checks: Mapping[str, Check] = CHECKS) -> str:
    """The spec unchanged if ``checks`` (by scheme) accept it; else ChannelError."""
    kind, target = split(spec)
    check = checks.get(kind)
    if check is None:
        raise unknown(spec, checks)
    try:
        check(target)
    except ChannelError as exc:
        raise ChannelError(f"channel {spec!r}: {exc}") from None
    return spec
