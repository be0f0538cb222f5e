"""Email channel against a real local SMTP server (aiosmtpd: STARTTLS + AUTH required)."""

from __future__ import annotations

from pathlib import Path

from pipeline.models import AlertRule
from pipeline.notify.notifier import Notifier, SmtpSettings, build_channel_settings
from tests.fixtures.servers import SmtpServer
from tests.unit.notify.conftest import FAST, event

SPEC = "email:desk@example.org,night@example.org"


def notifier(tmp_path: Path, smtp: SmtpServer, password: str = "hunter2") -> Notifier:
    settings = SmtpSettings(host="127.0.0.1", port=smtp.port, username="newswire",
                            password_env="SMTP_PASSWORD", sender="alerts@newswire.example",
                            ca_file=smtp.ca_file, timeout=5)
    rule = AlertRule(name="pact", query="ukraine", channels=[SPEC])
    channels = build_channel_settings([rule], {"SMTP_PASSWORD": password}, smtp=settings,
                                      delivery=FAST)
    return Notifier(tmp_path, rules=[rule], channels=channels)


async def test_starttls_auth_plain_and_html_threaded_by_story(tmp_path: Path,
                                                             smtp: SmtpServer) -> None:
    n = notifier(tmp_path, smtp)
    done = await n.deliver_all([event(SPEC)])
    done += await n.deliver_all([event(SPEC, kind="update", sources=3)])
    assert [e.state for e in done] == ["delivered", "delivered"]
    first, update = smtp.messages
    assert first["To"] == "desk@example.org, night@example.org"
    assert first["Subject"] == "[newswire] pact: US and Ukraine sign <security> pact"
    assert first.get_content_type() == "multipart/alternative"
    plain = first.get_body(("plain",))
    html = first.get_body(("html",))
    assert plain is not None and "US and Ukraine sign <security> pact" in plain.get_content()
    assert html is not None and "&lt;security&gt;" in html.get_content()
    root = first["Message-ID"]
    assert root == "<pact.s-1@newswire.example>"
    assert update["In-Reply-To"] == root and update["References"] == root
    assert update["Message-ID"] != root and update["Subject"].startswith("Re: ")


async def test_transient_smtp_failure_is_retried(tmp_path: Path, smtp: SmtpServer) -> None:
    smtp.fail = ["451 4.3.0 injected: try again later"]
    [done] = await notifier(tmp_path, smtp).deliver_all([event(SPEC)])
    assert done.state == "delivered" and done.attempts == 2 and len(smtp.messages) == 1


async def test_permanent_smtp_failure_is_dead_lettered(tmp_path: Path, smtp: SmtpServer) -> None:
    smtp.fail = ["554 5.7.1 injected: message refused"]
    [done] = await notifier(tmp_path, smtp).deliver_all([event(SPEC)])
    assert done.state == "failed" and done.attempts == 1
    assert "554" in (done.error or "") and "injected: message refused" in (done.error or "")
    assert smtp.messages == []


async def test_wrong_password_is_dead_lettered(tmp_path: Path, smtp: SmtpServer) -> None:
    [done] = await notifier(tmp_path, smtp, password="wrong").deliver_all([event(SPEC)])
    assert done.state == "failed" and "535" in (done.error or "")
