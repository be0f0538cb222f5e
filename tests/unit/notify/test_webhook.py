"""Webhook and Slack channels against a real local HTTP server, with injected failures."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from pipeline.models import AlertRule
from pipeline.notify.notifier import Notifier, build_channel_settings
from pipeline.notify.webhook import SIGNATURE_HEADER, verify
from tests.fixtures.servers import WebhookServer
from tests.unit.notify.conftest import FAST, event

SECRET = "s3cret-key"


def notifier(tmp_path: Path, rules: list[AlertRule], env: dict[str, str] | None = None,
             out: io.StringIO | None = None) -> Notifier:
    channels = build_channel_settings(rules, env or {}, delivery=FAST)
    return Notifier(tmp_path, out=out, rules=rules, channels=channels)


async def test_webhook_is_signed_with_the_rules_secret(tmp_path: Path,
                                                       webhook: WebhookServer) -> None:
    spec = f"webhook:{webhook.url}/ok"
    rule = AlertRule(name="pact", query="ukraine", channels=[spec], secret_env="HOOK_KEY")
    n = notifier(tmp_path, [rule], {"HOOK_KEY": SECRET})
    [done] = await n.deliver_all([event(spec)])
    await n.aclose()
    assert done.state == "delivered" and done.error is None
    [got] = webhook.bodies("/ok")
    assert verify(SECRET, got.body, got.headers[SIGNATURE_HEADER])
    assert not verify("other-key", got.body, got.headers[SIGNATURE_HEADER])
    body = json.loads(got.body)
    assert body["rule"] == "pact" and body["story_id"] == "s-1" and body["kind"] == "new"
    assert "state" not in body and got.headers["X-Newswire-Event"] == "new"


async def test_500s_then_success_is_retried(tmp_path: Path, webhook: WebhookServer) -> None:
    spec = f"webhook:{webhook.url}/flaky/2"
    n = notifier(tmp_path, [AlertRule(name="pact", query="q", channels=[spec])])
    [done] = await n.deliver_all([event(spec)])
    await n.aclose()
    assert done.state == "delivered" and done.attempts == 3
    assert webhook.counts["/flaky/2"] == 3 and len(webhook.bodies("/flaky/2")) == 1


async def test_always_failing_is_dead_lettered_and_others_still_delivered(
        tmp_path: Path, webhook: WebhookServer) -> None:
    down, ok, rejected = (f"webhook:{webhook.url}/down", f"webhook:{webhook.url}/ok",
                          f"webhook:{webhook.url}/reject")
    rules = [AlertRule(name="pact", query="q", channels=[down, ok, "jsonl:a.jsonl", rejected]),
             AlertRule(name="other", query="q", channels=[down, ok])]
    n = notifier(tmp_path, rules)
    events = [event(c) for c in rules[0].channels] + [event(c, rule="other")
                                                     for c in rules[1].channels]
    done = {(e.rule, e.channel): e for e in await n.deliver_all(events)}
    await n.aclose()
    failed = done[("pact", down)]
    assert failed.state == "failed" and "HTTP 500" in (failed.error or "")
    assert "gave up after 3 attempts" in (failed.error or "")
    assert done[("pact", rejected)].state == "failed"
    assert done[("pact", rejected)].attempts == 1  # a 400 is not retried
    assert "HTTP 400" in (done[("pact", rejected)].error or "")
    assert done[("pact", ok)].state == "delivered" and done[("other", ok)].state == "delivered"
    assert done[("pact", "jsonl:a.jsonl")].state == "delivered"
    assert (tmp_path / "a.jsonl").read_text().count("\n") == 1
    assert len(webhook.bodies("/ok")) == 2 and webhook.counts["/down"] == 6


async def test_missing_secret_refuses_rather_than_sending_unsigned(
        tmp_path: Path, webhook: WebhookServer) -> None:
    spec = f"webhook:{webhook.url}/ok"
    rule = AlertRule(name="pact", query="q", channels=[spec], secrets={spec: "UNSET_VAR"})
    [done] = await notifier(tmp_path, [rule], {}).deliver_all([event(spec)])
    assert done.state == "failed" and "UNSET_VAR" in (done.error or "")
    assert webhook.bodies("/ok") == []


async def test_unreachable_webhook_is_dead_lettered_with_reason(tmp_path: Path) -> None:
    spec = "webhook:http://127.0.0.1:9/hook"  # discard port: connection refused
    [done] = await notifier(tmp_path, [AlertRule(name="pact", query="q", channels=[spec])]
                            ).deliver_all([event(spec)])
    assert done.state == "failed" and "ConnectError" in (done.error or "")


async def test_slack_incoming_webhook_format(tmp_path: Path, webhook: WebhookServer) -> None:
    spec = f"slack:{webhook.url}/ok"
    n = notifier(tmp_path, [AlertRule(name="pact", query="q", channels=[spec])])
    [done] = await n.deliver_all([event(spec, kind="update", sources=3)])
    await n.aclose()
    assert done.state == "delivered"
    body = json.loads(webhook.bodies("/ok")[0].body)
    assert set(body) == {"text", "blocks"} and body["text"].startswith("ALERT [pact]")
    section = body["blocks"][0]
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    text = section["text"]["text"]
    assert "story update" in text and "3 sources" in text
    assert "<https://outlet.example/a-1|US and Ukraine sign &lt;security&gt; pact>" in text
    assert body["blocks"][1]["type"] == "context"


async def test_console_line(tmp_path: Path) -> None:
    out = io.StringIO()
    await notifier(tmp_path, [], out=out).deliver(event("console"))
    assert out.getvalue().startswith("ALERT [pact] US and Ukraine")


async def test_each_delivery_is_reported_as_soon_as_it_settles(
        tmp_path: Path, webhook: WebhookServer) -> None:
    """``on_done`` sees a quick channel's result while a slow one is still being sent, so
    a runtime can record it at once (a crash then repeats only what was in flight)."""
    slow, ok = f"webhook:{webhook.url}/hold/1/30", f"webhook:{webhook.url}/ok"
    rules = [AlertRule(name="pact", query="q", channels=[slow, ok])]
    n = notifier(tmp_path, rules)
    settled: list[tuple[str, str, bool]] = []

    async def on_done(e: Any) -> None:
        # whether the slow delivery is still unanswered (it may not even have reached the
        # server yet on a loaded machine); the quick one's report then lets it go
        settled.append((e.channel, e.state, not webhook.bodies("/hold/1/30")))
        webhook.release.set()

    await n.deliver_all([event(slow), event(ok)], on_done=on_done)
    await n.aclose()
    assert [(c, s) for c, s, _ in settled] == [(ok, "delivered"), (slow, "delivered")]
    assert settled[0][2], "the quick channel was reported only after the slow one ended"
