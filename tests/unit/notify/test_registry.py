"""Channels are found by scheme in the registry: every built-in resolves, unknown schemes
and bad targets give a ChannelError that says what would work, and a registered channel is
what ``Notifier.deliver`` uses (no chain of scheme names left)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipeline.models import AlertEvent
from pipeline.notify import registry, spec
from pipeline.notify.channel import Channel, DeliveryContext
from pipeline.notify.notifier import Notifier
from pipeline.notify.spec import ChannelError, DeliveryRejected
from tests.unit.notify.conftest import event

GOOD = {"console": "console", "jsonl": "jsonl:alerts.jsonl",
        "webhook": "webhook:https://hooks.example.org/h", "slack": "slack:http://127.0.0.1/s",
        "email": "email:desk@example.org, night@localhost", "atom": "atom"}


@dataclass
class Pigeon:
    """A channel the package does not ship: records what it is given."""

    scheme: str = "pigeon"
    sent: list[tuple[AlertEvent, str, DeliveryContext]] = field(default_factory=list)
    refuse: bool = False

    def validate(self, target: str) -> None:
        if not target.startswith("loft-"):
            raise ChannelError("pigeon needs a loft, e.g. pigeon:loft-7")

    async def deliver(self, event: AlertEvent, target: str, context: DeliveryContext) -> None:
        if self.refuse:
            raise DeliveryRejected(f"{target} is closed")
        self.sent.append((event, target, context))


@pytest.fixture
def channels(monkeypatch: pytest.MonkeyPatch) -> dict[str, Channel]:
    """A private copy of the registry: a test's registrations end with the test."""
    copy = dict(registry.CHANNELS)
    monkeypatch.setattr(registry, "CHANNELS", copy)
    return copy


def test_builtin_channels_are_the_kinds_config_accepts() -> None:
    assert tuple(registry.CHANNELS) == spec.KINDS == tuple(GOOD)


@pytest.mark.parametrize(("scheme", "channel"), GOOD.items())
def test_each_scheme_resolves_to_its_channel(scheme: str, channel: str) -> None:
    assert registry.channel_for(channel).scheme == scheme
    assert registry.channel_for(f"  {scheme.upper()}{channel[len(scheme):]}").scheme == scheme
    assert registry.validate(channel) == spec.validate(channel) == channel


def test_unknown_scheme_names_the_spec_and_the_known_ones(
        channels: dict[str, Channel]) -> None:
    registry.register(Pigeon())
    for check in (registry.channel_for, registry.validate):
        with pytest.raises(ChannelError) as caught:
            check("sms:+4912345")
        message = str(caught.value)
        assert message.startswith("unknown alert channel 'sms:+4912345': known channels are ")
        assert all(scheme in message for scheme in (*GOOD, "pigeon"))
        assert "e.g. webhook:https://" in message


@pytest.mark.parametrize(("channel", "example"), [
    ("console:stdout", "console takes no target"),
    ("jsonl", "e.g. jsonl:alerts.jsonl"),
    ("jsonl:  ", "e.g. jsonl:alerts.jsonl"),
    ("webhook:ftp://x.example/h", "e.g. webhook:https://"),
    ("slack:hooks.slack.com/x", "e.g. slack:https://"),
    ("email:nobody", "e.g. email:desk@example.org (bad: nobody)"),
    ("email:", "(bad: none)"),
])
def test_bad_target_says_what_a_good_one_looks_like(channel: str, example: str) -> None:
    with pytest.raises(ChannelError) as by_registry:
        registry.validate(channel)
    with pytest.raises(ChannelError) as by_config:
        spec.validate(channel)
    assert str(by_registry.value) == str(by_config.value)
    assert str(by_registry.value).startswith(f"channel {channel!r}: ")
    assert example in str(by_registry.value)


async def test_a_registered_channel_is_what_deliver_uses(
        tmp_path: Path, channels: dict[str, Channel]) -> None:
    pigeon = Pigeon()
    registry.register(pigeon)
    notifier = Notifier(tmp_path)
    assert Notifier.validate("Pigeon:loft-7") == "Pigeon:loft-7"
    with pytest.raises(ChannelError, match="channel 'pigeon:roof'.*e.g. pigeon:loft-7"):
        Notifier.validate("pigeon:roof")
    alert = event("pigeon: loft-7")
    await notifier.deliver(alert)
    [(sent, target, context)] = pigeon.sent
    assert sent is alert and target == "loft-7"
    assert context.base_dir == tmp_path and context.client is notifier.client
    await notifier.aclose()


async def test_a_builtin_scheme_is_delivered_by_whatever_the_registry_holds(
        tmp_path: Path, channels: dict[str, Channel]) -> None:
    out = io.StringIO()
    channels["console"] = stand_in = Pigeon(scheme="console")
    await Notifier(tmp_path, out=out).deliver(event("console"))
    assert len(stand_in.sent) == 1 and out.getvalue() == ""


async def test_registered_channel_failures_are_dead_lettered(
        tmp_path: Path, channels: dict[str, Channel]) -> None:
    registry.register(Pigeon(refuse=True))
    [done] = await Notifier(tmp_path).deliver_all([event("pigeon:loft-7")])
    assert done.state == "failed" and done.error == "DeliveryRejected: loft-7 is closed"


async def test_unknown_scheme_is_refused_at_delivery(tmp_path: Path) -> None:
    with pytest.raises(ChannelError, match="unknown alert channel 'sms:1'"):
        await Notifier(tmp_path).deliver(event("sms:1"))


@pytest.mark.parametrize("scheme", ["console", "Pager", "", "page r", "pa:ger"])
def test_register_refuses_a_taken_or_unreadable_scheme(
        scheme: str, channels: dict[str, Channel]) -> None:
    with pytest.raises(ValueError, match="already registered|lower-case"):
        registry.register(Pigeon(scheme=scheme))
    assert set(channels) == set(GOOD)
