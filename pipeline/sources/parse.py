"""Feed documents → entries → RawArticle: RSS 0.9x/1.0/2.0 and Atom (feedparser), JSON Feed.

Before parsing, XML that declares entities is refused (safety.check_xml). A document that
is not well-formed but still yields entries is read, with a warning kept in feed health;
one that yields nothing raises FeedError(kind="parse") with the reason in words.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import feedparser
import feedparser.api
from pydantic import ValidationError

from pipeline.identity import article_id
from pipeline.models import FeedSource, RawArticle
from pipeline.sources.errors import FeedError
from pipeline.sources.jsonfeed import Parsed, looks_like_json, parse_json_feed
from pipeline.sources.safety import check_xml

_TAG = re.compile(r"<[a-zA-Z/][^>]*>")
# feedparser asks xml.sax for the libxml2 driver first, a failed import on every parse
# (about a third of the cost of a small feed); expat is what it ends up with anyway.
feedparser.api.PREFERRED_XML_PARSERS[:] = []


def _reason(exc: object) -> str:
    text = str(exc) or type(exc).__name__
    return text.replace("<unknown>:", "line ")


def parse_feed(content: bytes, url: str, headers: Mapping[str, str] | None = None) -> Parsed:
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if not content.strip():
        raise FeedError("not a readable feed: empty document", kind="parse")
    if looks_like_json(content, headers.get("content-type", "")):
        return parse_json_feed(content)
    check_xml(content)
    content, content_type = _trust_utf8(content, headers.get("content-type", ""))
    response_headers = {"content-location": url}
    if content_type:
        response_headers["content-type"] = content_type
    parsed = feedparser.parse(content, response_headers=response_headers,
                              sanitize_html=False, resolve_relative_uris=True)
    version = parsed.get("version") or ""
    if parsed.bozo and not parsed.entries:
        raise FeedError(f"not a readable feed: {_reason(parsed.get('bozo_exception'))}",
                        kind="parse")
    if not parsed.entries and not version and not parsed.feed.get("title"):
        raise FeedError("not a readable feed: no RSS, Atom or JSON Feed document found",
                        kind="parse")
    warning = None
    if parsed.bozo:
        warning = (f"feed is not well-formed ({_reason(parsed.get('bozo_exception'))}); "
                   f"{len(parsed.entries)} entries read anyway")
    return Parsed(feed=dict(parsed.feed), entries=list(parsed.entries), warning=warning)


_DECLARED = re.compile(rb"""^(\s*<\?xml[^>]*?encoding=)(["'])[^"']*\2""")


def _trust_utf8(content: bytes, content_type: str) -> tuple[bytes, str]:
    """Wrong declared encodings: a body that is valid UTF-8 with non-ASCII bytes is UTF-8
    whatever the HTTP charset or the XML declaration claim (single-byte text practically
    never decodes as UTF-8), so both claims are dropped; otherwise they stand."""
    if content.isascii() or content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content, content_type
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return content, content_type
    return _DECLARED.sub(rb'\1"utf-8"', content, count=1), content_type.split(";")[0].strip()


def entry_time(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get: feedparser's own get() maps a missing updated_parsed to published_parsed
        # with a DeprecationWarning; the keys actually parsed are what counts here
        value = dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _body(entry: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(html, summary): full content when the feed carries it, else the summary."""
    contents = entry.get("content") or []
    best = max((c.get("value", "") or "" for c in contents), key=len, default="")
    return (best or None), entry.get("summary")


def _link(entry: Mapping[str, Any], parsed: Parsed) -> tuple[str | None, str | None]:
    """(url, id): the entry's link; else a URL-like GUID; else the feed's site link with
    an id from the GUID or content (so the entry keeps an identity of its own)."""
    link = entry.get("link")
    guid = str(entry.get("id") or "") or None
    if link:
        fragment = link.partition("#")[2]
        if fragment and guid and guid.endswith("#" + fragment):
            return link, article_id(None, guid)  # items of one page told apart by anchors
        return link, None
    if guid and guid.startswith(("http://", "https://")):
        return guid, None
    site = parsed.feed.get("link")
    if not site:
        return None, None
    body = " ".join(filter(None, (entry.get("title"), *(_body(entry)))))
    return site, article_id(None, guid, body or None) if (guid or body) else None


def entries_to_articles(parsed: Parsed, feed: FeedSource) -> Iterator[RawArticle | tuple[str, str]]:
    """Feed entries as RawArticle, or (entry, reason) for an entry that cannot be one."""
    feed_source = feed.name or parsed.feed.get("title") or None
    for entry in parsed.entries:
        source = (entry.get("source") or {}).get("title") or feed_source
        url, own_id = _link(entry, parsed)
        html, summary = _body(entry)
        plain = summary if summary and not html and not _TAG.search(summary) else None
        what = entry.get("title") or entry.get("id") or "entry"
        if not url:
            yield (f"{feed.url} :: {what}", "feed entry has no link (and the feed no site "
                   "link): nothing to identify or open")
            continue
        if any(c.isspace() for c in url.strip()):
            yield (f"{feed.url} :: {what}", f"invalid feed entry: link {url!r} is not a url")
            continue
        try:
            yield RawArticle(
                id=own_id, url=url, title=entry.get("title"), html=html, text=plain,
                summary=summary if not html and not plain else None,
                author=entry.get("author"), published=entry_time(entry),
                source=source, feed_url=feed.url, guid=entry.get("id"))
        except ValidationError as exc:
            first = exc.errors()[0]
            yield (f"{feed.url} :: {what}", f"invalid feed entry: {first['msg']} "
                   f"(field {'.'.join(map(str, first['loc']))})")
