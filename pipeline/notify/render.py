"""What an alert says, per format: one line, plain text, HTML, webhook JSON, Slack blocks."""

from __future__ import annotations

import html
import json
from typing import Any

from pipeline.models import AlertEvent

_KIND = {"new": "new story", "update": "story update", "digest": "digest"}


def render(event: AlertEvent) -> str:
    """One line (console)."""
    if event.kind == "digest":
        return f"ALERT [{event.rule}] digest: {event.headline}"
    grown = f", {event.sources} sources" if event.kind == "update" else ""
    return f"ALERT [{event.rule}] {event.headline} (story {event.story_id}{grown})"


def subject(event: AlertEvent) -> str:
    if event.kind == "digest":
        return f"[newswire] {event.rule} digest: {event.headline}"
    base = f"[newswire] {event.rule}: {event.headline}"
    return f"Re: {base}" if event.kind == "update" else base


def plain_text(event: AlertEvent) -> str:
    lines = [f"{_KIND[event.kind]} for rule {event.rule} (query: {event.query})", ""]
    if event.kind == "digest":
        lines += [f"- {s.headline} ({s.sources} sources, story {s.story_id})"
                  for s in event.stories]
    else:
        lines.append(event.headline)
        if event.url:
            lines.append(event.url)
        lines.append(f"story {event.story_id}, {event.sources or 1} sources")
    lines += ["", f"fired {event.fired.isoformat()}"]
    return "\n".join(lines) + "\n"


def html_text(event: AlertEvent) -> str:
    esc = html.escape
    head = (f"<p>{esc(_KIND[event.kind])} for rule <b>{esc(event.rule)}</b> "
            f"(query: <code>{esc(event.query)}</code>)</p>")
    if event.kind == "digest":
        items = "".join(f"<li>{esc(s.headline)} ({s.sources} sources)</li>"
                        for s in event.stories)
        return f"<html><body>{head}<ul>{items}</ul></body></html>"
    title = (f'<a href="{esc(event.url, quote=True)}">{esc(event.headline)}</a>' if event.url
             else esc(event.headline))
    return (f"<html><body>{head}<h3>{title}</h3><p>story {esc(event.story_id)}, "
            f"{event.sources or 1} sources</p></body></html>")


def payload(event: AlertEvent) -> dict[str, Any]:
    """The webhook body: the event without its delivery bookkeeping, plus a text line."""
    data: dict[str, Any] = json.loads(event.model_dump_json(
        exclude={"state", "error", "attempts"}))
    data["text"] = render(event)
    return data


def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(event: AlertEvent) -> dict[str, Any]:
    """Slack incoming-webhook format: ``text`` (fallback) plus ``blocks``."""
    if event.kind == "digest":
        body = "\n".join(f"• {_mrkdwn(s.headline)} ({s.sources} sources)" for s in event.stories)
        title = f"*{_mrkdwn(event.rule)} digest* — {_mrkdwn(event.headline)}"
    else:
        link = (f"<{event.url}|{_mrkdwn(event.headline)}>" if event.url
                else _mrkdwn(event.headline))
        title = f"*{_KIND[event.kind]}* for *{_mrkdwn(event.rule)}*"
        body = f"{link}\n{event.sources or 1} sources · story `{event.story_id}`"
    return {"text": render(event), "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{title}\n{body}"}},
        {"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"query `{_mrkdwn(event.query)}`"}]},
    ]}
