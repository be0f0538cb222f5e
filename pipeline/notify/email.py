"""Email channel: SMTP with STARTTLS (or implicit TLS) and AUTH, plain text + HTML bodies,
threaded by story.

    new story      Message-ID: <RULE.STORY@DOMAIN>                       (the thread root)
    story update   Message-ID: <RULE.STORY.update-N@DOMAIN>
                   In-Reply-To / References: <RULE.STORY@DOMAIN>          (same thread)
    digest         Message-ID: <RULE.digest.PERIOD@DOMAIN>

SMTP 4xx replies and connection errors are retried (``SinkUnavailable``); 5xx replies and
refused logins are final (``DeliveryRejected``). smtplib runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime

from pipeline.config.alerts import SmtpSettings
from pipeline.errors import SinkUnavailable
from pipeline.models import AlertEvent
from pipeline.notify.channel import DeliveryContext
from pipeline.notify.render import html_text, plain_text, subject
from pipeline.notify.retry import with_retries
from pipeline.notify.spec import DeliveryRejected, check_email, split


def _atom(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


def thread_root(event: AlertEvent, domain: str) -> str:
    return f"<{_atom(event.rule)}.{_atom(event.story_id)}@{domain}>"


def message_id(event: AlertEvent, domain: str) -> str:
    if event.kind == "new":
        return thread_root(event, domain)
    return f"<{_atom(event.rule)}.{_atom(event.story_id)}.{_atom(event.event)}@{domain}>"


def build_message(event: AlertEvent, sender: str) -> EmailMessage:
    domain = sender.rpartition("@")[2] or "newswire.local"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(a.strip() for a in split(event.channel)[1].split(",") if a.strip())
    msg["Subject"] = subject(event)
    msg["Date"] = format_datetime(event.fired)
    msg["Message-ID"] = message_id(event, domain)
    if event.kind == "update":
        msg["In-Reply-To"] = thread_root(event, domain)
        msg["References"] = thread_root(event, domain)
    msg["X-Newswire-Rule"] = event.rule
    msg["X-Newswire-Story"] = event.story_id
    msg.set_content(plain_text(event))
    msg.add_alternative(html_text(event), subtype="html")
    return msg


def _tls(settings: SmtpSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """AUTH PLAIN when offered (inside TLS), else smtplib's choice; one refusal is final
    (smtplib's fallback to the next mechanism can hang on some servers)."""
    if "PLAIN" in smtp.esmtp_features.get("auth", "").upper().split():
        smtp.user, smtp.password = user, password
        smtp.auth("PLAIN", smtp.auth_plain)
    else:
        smtp.login(user, password)


def _send(settings: SmtpSettings, password: str | None, msg: EmailMessage) -> None:
    smtp: smtplib.SMTP
    if settings.ssl:
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                context=_tls(settings))
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with smtp:
        smtp.ehlo()
        if settings.starttls and not settings.ssl:
            smtp.starttls(context=_tls(settings))
            smtp.ehlo()
        if settings.username:
            _login(smtp, settings.username, password or "")
        smtp.send_message(msg)


def _classify(exc: Exception, where: str) -> Exception:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        if all(400 <= c < 500 for c in codes):
            return SinkUnavailable(f"SMTP {where}: recipients deferred {exc.recipients}")
        return DeliveryRejected(f"SMTP {where}: recipients refused {exc.recipients}")
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        reason = f"SMTP {where}: {exc.smtp_code} {text}"
        return SinkUnavailable(reason) if 400 <= exc.smtp_code < 500 else \
            DeliveryRejected(reason)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return DeliveryRejected(f"SMTP {where}: TLS certificate not trusted: {exc}")
    return SinkUnavailable(f"SMTP {where}: {type(exc).__name__}: {exc}")


async def send_email(settings: SmtpSettings | None, password: str | None,
                     event: AlertEvent) -> None:
    """One attempt; raises SinkUnavailable (retry) or DeliveryRejected (final)."""
    if settings is None:
        raise DeliveryRejected("email channel needs an smtp: section in alerts.yaml")
    msg = build_message(event, settings.sender)
    where = f"{settings.host}:{settings.port}"
    try:
        await asyncio.to_thread(_send, settings, password, msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise _classify(exc, where) from exc


class EmailChannel:
    """``email:ADDRESS[,..]``: one message to every address, retried per the policy."""

    scheme = "email"

    def validate(self, target: str) -> None:
        check_email(target)

    async def deliver(self, event: AlertEvent, target: str, context: DeliveryContext) -> None:
        settings = context.channels
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        await with_retries(settings.delivery,
                           lambda: send_email(settings.smtp, password, event), event)
