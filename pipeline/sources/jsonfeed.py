"""JSON Feed 1.0 / 1.1 (https://jsonfeed.org) read into the shape feedparser gives.

``parse_json_feed`` returns a ``Parsed`` whose ``feed`` and ``entries`` are plain dicts
with feedparser's key names (title, link, id, content, summary, author, published_parsed),
so one function turns entries of any format into RawArticle.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.sources.errors import FeedError


@dataclass
class Parsed:
    feed: dict[str, Any] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    warning: str | None = None  # the document was not well-formed but entries were read


def looks_like_json(content: bytes, content_type: str = "") -> bool:
    return "json" in content_type.lower() or content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _when(value: Any) -> time.struct_time | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.timetuple()
    return parsed.utctimetuple()


def _author(item: dict[str, Any]) -> str | None:
    authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict)
                                      else [])
    names = [str(a.get("name")) for a in authors if isinstance(a, dict) and a.get("name")]
    return ", ".join(names) or None


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": str(item["id"]) if item.get("id") is not None else None,
        "link": item.get("url") or item.get("external_url"),
        "title": item.get("title"),
        "summary": item.get("summary") or item.get("content_text"),
        "author": _author(item),
        "published_parsed": _when(item.get("date_published")),
        "updated_parsed": _when(item.get("date_modified")),
    }
    if item.get("content_html"):
        entry["content"] = [{"value": item["content_html"]}]
    return entry


def parse_json_feed(content: bytes) -> Parsed:
    """Parse a JSON Feed; FeedError(kind="parse") says in words what is wrong."""
    try:
        doc = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedError(f"not a readable feed: invalid JSON ({exc})", kind="parse") from exc
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith(
            "https://jsonfeed.org/version/"):
        raise FeedError("not a readable feed: JSON without a jsonfeed.org version",
                        kind="parse")
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedError("not a readable feed: JSON Feed without an items list", kind="parse")
    feed = {"title": doc.get("title"), "link": doc.get("home_page_url")}
    return Parsed(feed=feed, entries=[_entry(i) for i in items if isinstance(i, dict)])
