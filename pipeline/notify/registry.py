"""The alert channels by scheme.

    channel_for(spec)    the Channel that delivers ``spec``, or ChannelError
    validate(spec)       ``spec`` if its channel accepts its target, or ChannelError
    register(channel)    add a channel (a scheme not taken yet)

The built-in channels are those ``spec.KINDS`` names, so configuration (which checks specs
with ``spec.validate`` at load, without importing the channels) accepts exactly these.
"""

from __future__ import annotations

import re

from pipeline.notify.atom import AtomChannel
from pipeline.notify.channel import Channel
from pipeline.notify.console import ConsoleChannel
from pipeline.notify.email import EmailChannel
from pipeline.notify.jsonl import JsonlChannel
from pipeline.notify.spec import split, unknown
from pipeline.notify.spec import validate as validate_spec
from pipeline.notify.webhook import SlackChannel, WebhookChannel

_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")

CHANNELS: dict[str, Channel] = {channel.scheme: channel for channel in (
    ConsoleChannel(), JsonlChannel(), WebhookChannel(), SlackChannel(), EmailChannel(),
    AtomChannel())}


def register(channel: Channel) -> Channel:
    """Make ``channel`` deliver specs of its scheme (lower case, as ``split`` reads it)."""
    if not _SCHEME.fullmatch(channel.scheme):
        raise ValueError(f"alert channel scheme {channel.scheme!r}: use lower-case letters, "
                         "digits, '+', '.' or '-', e.g. 'pager'")
    if channel.scheme in CHANNELS:
        raise ValueError(f"alert channel {channel.scheme!r} is already registered")
    CHANNELS[channel.scheme] = channel
    return channel


def channel_for(spec: str) -> Channel:
    channel = CHANNELS.get(split(spec)[0])
    if channel is None:
        raise unknown(spec, CHANNELS)
    return channel


def validate(spec: str) -> str:
    return validate_spec(spec, {scheme: c.validate for scheme, c in CHANNELS.items()})
