"""Alert delivery on the Kafka runtime: a real worker, broker, Elasticsearch, a real local
webhook server (signatures verified) and a real local SMTP server (STARTTLS + AUTH).

* kill -9 while a delivery is in flight: after a restart every alert arrives, none is lost,
  and the only repeat is the delivery whose response never reached the worker (same
  ``X-Newswire-Delivery`` id, so the receiver can drop it);
* injected failures: retried and delivered, or recorded ``failed`` with the reason in the
  ES alert log (``newswire alerts log --backend kafka``) while other rules still deliver.
"""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from typing import Any

import pytest
import yaml

from pipeline.models import AlertEvent
from pipeline.notify.webhook import SIGNATURE_HEADER, verify
from tests.conftest import newswire
from tests.fixtures.servers import Received, SmtpServer, WebhookServer, free_port
from tests.integration.conftest import RULES, StreamEnv
from tests.integration.corpus import articles
from tests.integration.test_elasticsearch_store import raw_articles

pytestmark = pytest.mark.integration

SECRET = "kafka-hook-secret"
HOOK_ENV, SMTP_ENV = "NW_TEST_HOOK_KEY", "NW_TEST_SMTP_PASSWORD"
PACT, FROZEN = "ukraine-security-pact", "frozen-assets-moves"
EMAIL = "email:desk@example.org"


def configure(env: StreamEnv, smtp: SmtpServer, rules: list[dict[str, Any]],
              delivery: dict[str, float]) -> None:
    """This test's alerts.yaml (signed webhooks, the local SMTP server) and secrets."""
    for rule in rules:
        rule.setdefault("secret_env", HOOK_ENV)
    (env.config_dir / "alerts.yaml").write_text(yaml.safe_dump({
        "rules": rules, "delivery": delivery,
        "smtp": {"host": "127.0.0.1", "port": smtp.port, "starttls": True,
                 "username": "newswire", "password_env": SMTP_ENV,
                 "sender": "alerts@newswire.example", "ca_file": str(smtp.ca_file),
                 "timeout": 5}}))
    env.env.update({HOOK_ENV: SECRET, SMTP_ENV: "hunter2"})


def seed_rules(*channels: str) -> list[dict[str, Any]]:
    """The seeds' two rules (tests/integration/conftest.py), on these channels."""
    rules: list[dict[str, Any]] = yaml.safe_load(RULES)["rules"]
    for rule in rules:
        rule["channels"] = list(channels)
    return rules


def log_of(env: StreamEnv) -> list[AlertEvent]:
    store = env.store()
    store.refresh()
    return store.alert_log()


def body(r: Received) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(r.body)
    return data


def test_kill_9_during_delivery_loses_none_and_repeats_only_the_one_in_flight(
        stream_env: StreamEnv, seeds: dict[str, str], webhook: WebhookServer,
        smtp: SmtpServer) -> None:
    env = stream_env
    # The 3rd webhook request is held (its answer would come after 60 s): in flight.
    hold = "/hold/3/60"
    hook = f"webhook:{webhook.url}{hold}"
    rules = seed_rules(hook)
    rules[1]["channels"].append(EMAIL)  # frozen assets: by email too
    configure(env, smtp, rules, {"attempts": 4, "backoff": 0.1, "max_backoff": 0.5,
                                 "timeout": 90, "deadline": 120})
    seed_raws = raw_articles(seeds)[:5]
    corpus = articles(n_stories=12)  # stories 0, 4 and 8 mention frozen assets
    first = env.start_worker()
    env.ingest(seed_raws + corpus)
    store = env.store()
    total = len(seed_raws) + len(corpus)
    env.wait_for("a webhook delivery held in flight", webhook.holding.is_set, timeout=90)
    # Let the story agent finish (the crash is in delivery, not mid-story), then kill it.
    deadline = time.monotonic() + 20
    while env.indexed(store) < total and time.monotonic() < deadline:
        time.sleep(0.5)
    held = [r for r in webhook.arrivals if r.path == hold][2]
    answered_before = {r.delivery for r in webhook.received}
    killed_at = time.perf_counter()
    first.send_signal(signal.SIGKILL)
    first.wait()
    webhook.release.set()  # the held request is answered now, to a dead worker
    # deliveries run concurrently: others may have been answered while this one was held
    assert len(answered_before) >= 2 and held.delivery not in answered_before

    env.start_worker()
    env.wait_for("every article indexed", lambda: env.indexed(store) == total, timeout=120)
    stories = store.stories()
    seed_urls = {str(r.url) for r in seed_raws}
    seed_story = {a.story_id for a in store.export() if a.url in seed_urls}
    assert len(seed_story) == 1, f"the seeds should make one story: {seed_story}"
    frozen = {s.id for s in stories if "frozen-assets" in s.topics}
    assert seed_story <= frozen and len(frozen) == 4, [(s.id, s.topics) for s in stories]
    expected_hooks = {(PACT, *seed_story)} | {(FROZEN, s) for s in frozen}
    expected = {(r, s, hook) for r, s in expected_hooks} | {(FROZEN, s, EMAIL) for s in frozen}

    def all_delivered() -> bool:
        log = log_of(env)
        return ({(e.rule, e.story_id, e.channel) for e in log} == expected
                and all(e.state == "delivered" for e in log))
    env.wait_for("every alert delivered and logged", all_delivered, timeout=60)
    time.sleep(2)  # anything sent twice would show up now

    got = webhook.bodies(hold)
    assert all(verify(SECRET, r.body, r.headers[SIGNATURE_HEADER]) for r in got)
    assert {(body(r)["rule"], body(r)["story_id"]) for r in got} == expected_hooks
    ids = Counter(r.delivery for r in got)
    assert len(ids) == len(expected_hooks), "one delivery id per (rule, story, event, channel)"
    # No alert lost; the only repeat is the delivery in flight at the kill, exactly once more.
    assert ids == {**{i: 1 for i in ids}, held.delivery: 2}, ids
    answered = [r for r in got if r.answered < killed_at]
    assert {r.delivery for r in answered} == answered_before  # 2xx before the kill ...
    again = [r for r in got if r.at > killed_at and r.delivery in answered_before]
    assert again == [], "an alert answered 2xx before the kill was delivered again"
    # Email: no request was in flight there, so exactly once per story.
    mail = Counter(m["Message-ID"] for m in smtp.messages)
    assert set(mail.values()) == {1}
    assert set(mail) == {f"<{FROZEN}.{s}@newswire.example>" for s in frozen}
    log = log_of(env)
    assert len(log) == len(expected) == len({(e.rule, e.story_id, e.channel) for e in log})


def failure_rules(url: str, refused: str) -> list[dict[str, Any]]:
    query = "topic:frozen-assets"
    return [
        {"name": "down-hook", "query": query,
         "channels": [f"webhook:{url}/down", f"webhook:{url}/ok"]},
        {"name": "refused-hook", "query": query, "channels": [f"webhook:{refused}"]},
        {"name": "flaky-hook", "query": query, "channels": [f"webhook:{url}/flaky/2"]},
        {"name": "mail", "query": query, "channels": [EMAIL]},
        {"name": "other-rule", "query": query, "channels": [f"webhook:{url}/ok"]},
    ]


def test_injected_failures_retried_or_dead_lettered_with_reason(
        stream_env: StreamEnv, webhook: WebhookServer, smtp: SmtpServer) -> None:
    env = stream_env
    refused = f"http://127.0.0.1:{free_port()}/nobody-listens"
    configure(env, smtp, failure_rules(webhook.url, refused),
              {"attempts": 3, "backoff": 0.05, "max_backoff": 0.2, "timeout": 5,
               "deadline": 30})
    smtp.fail = ["451 4.3.0 injected: try again later"]
    env.start_worker()
    env.ingest(articles(n_stories=4))  # one story (the first) mentions frozen assets
    env.wait_for("six alerts logged", lambda: len(log_of(env)) == 6, timeout=120)

    records = json.loads(newswire(env.config_dir, env.data_dir, "alerts", "log", "--backend",
                                  "kafka", "--json", env=env.env).stdout)["alerts"]
    by = {(r["rule"], r["channel"]): r for r in records}
    assert len(by) == 6 and len({r["story_id"] for r in records}) == 1
    down = by[("down-hook", f"webhook:{webhook.url}/down")]
    assert down["state"] == "failed" and down["dead_lettered"]
    assert "HTTP 500" in down["error"] and "gave up after 3 attempts" in down["error"]
    assert webhook.counts["/down"] == 3
    gone = by[("refused-hook", f"webhook:{refused}")]
    assert gone["state"] == "failed" and "ConnectError" in gone["error"], gone
    flaky = by[("flaky-hook", f"webhook:{webhook.url}/flaky/2")]
    assert flaky["state"] == "delivered" and flaky["attempts"] == 3 and flaky["error"] is None
    assert webhook.counts["/flaky/2"] == 3 and len(webhook.bodies("/flaky/2")) == 1
    mail = by[("mail", EMAIL)]
    assert mail["state"] == "delivered" and mail["attempts"] == 2 and len(smtp.messages) == 1
    # The other channel of the failing rule, and another rule, are delivered.
    for key in (("down-hook", f"webhook:{webhook.url}/ok"),
                ("other-rule", f"webhook:{webhook.url}/ok")):
        assert by[key]["state"] == "delivered", by[key]
    oks = webhook.bodies("/ok")
    assert sorted(body(r)["rule"] for r in oks) == ["down-hook", "other-rule"]
    for r in [*oks, *webhook.bodies("/flaky/2")]:
        assert verify(SECRET, r.body, r.headers[SIGNATURE_HEADER])
    table = newswire(env.config_dir, env.data_dir, "alerts", "log", "--backend", "kafka",
                     env=env.env).stdout
    assert "dead-lettered" in table and "gave up after 3 attempts" in table


def test_a_failing_channel_does_not_hold_up_other_rules(
        stream_env: StreamEnv, webhook: WebhookServer, smtp: SmtpServer) -> None:
    """README: "channels and rules are delivered concurrently, so one failing channel holds
    up no other" (issue #8: "other channels and rules are not held up")."""
    env = stream_env
    query = "topic:frozen-assets"
    configure(env, smtp, [
        {"name": "down-first", "query": query, "channels": [f"webhook:{webhook.url}/down"]},
        {"name": "healthy", "query": query, "channels": [f"webhook:{webhook.url}/ok"]},
    ], {"attempts": 4, "backoff": 2, "max_backoff": 4, "timeout": 5, "deadline": 30})
    env.start_worker()
    env.ingest(articles(n_stories=1))  # one story, about frozen assets
    env.wait_for("both alerts logged", lambda: len(log_of(env)) == 2, timeout=120)
    downs = [r for r in webhook.arrivals if r.path == "/down"]
    [ok] = webhook.bodies("/ok")
    assert len(downs) == 4  # ~1 + 2 + 4 s of backoff between them
    # Delivered concurrently, the healthy rule's alert arrives while /down is retried,
    # not after the failing channel has used up its retries.
    assert ok.at < downs[-1].at, (f"healthy alert waited {ok.at - downs[0].at:.1f}s behind "
                                  "the failing channel's retries")



def test_a_failing_channel_does_not_hold_up_later_alerts(
        stream_env: StreamEnv, webhook: WebhookServer, smtp: SmtpServer) -> None:
    """Alerts that arrive while another channel is still retrying (a later batch) are
    delivered at once, not after the failing delivery gave up."""
    env = stream_env
    first, later = articles(n_stories=4)[0:5], articles(n_stories=4)[5:10]
    configure(env, smtp, [
        {"name": "down-first", "query": "topic:frozen-assets",
         "channels": [f"webhook:{webhook.url}/down"]},
        {"name": "later-story", "query": later[0].title.split(":")[0].split()[0],
         "channels": [f"webhook:{webhook.url}/ok"]},
    ], {"attempts": 4, "backoff": 2, "max_backoff": 4, "timeout": 5, "deadline": 30})
    env.start_worker()
    env.ingest(first)  # one story about frozen assets: its alert's channel is down
    env.wait_for("the failing channel's first try",
                 lambda: any(r.path == "/down" for r in webhook.arrivals), timeout=120)
    env.ingest(later)  # another story, another rule, a later batch
    env.wait_for("both alerts logged", lambda: len(log_of(env)) == 2, timeout=120)
    downs = [r for r in webhook.arrivals if r.path == "/down"]
    [ok] = webhook.bodies("/ok")
    assert len(downs) == 4
    assert ok.at < downs[-1].at, (f"the later alert waited {ok.at - downs[0].at:.1f}s behind "
                                  "the failing channel's retries")
    states = {e.rule: e.state for e in log_of(env)}
    assert states == {"down-first": "failed", "later-story": "delivered"}
