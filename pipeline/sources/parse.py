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
from urllib.parse import urljoin, urlsplit

import feedparser
import feedparser.api
from pydantic import ValidationError

from pipeline.identity import article_id, scoped_guid
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
    # relative links resolve against an http(s) feed's own URL; a local file's against
    # the feed's site link (entries_to_articles), not against the file's path
    response_headers = {"content-location": url} if url.startswith(("http:", "https:")) else {}
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


def _http(value: object, base: str | None) -> str | None:
    """``value`` as an absolute http(s) URL (a relative one resolved against ``base``), or
    None when it cannot be one (a ``tag:`` or ``urn:`` id, spaces, another scheme)."""
    text = str(value or "").strip()
    if not text or any(c.isspace() for c in text):
        return None
    if base and not urlsplit(text).scheme:
        text = urljoin(base, text)
    parts = urlsplit(text)
    return text if parts.scheme in ("http", "https") and parts.hostname else None


def _identity(entry: Mapping[str, Any], base: str,
              feed_url: str) -> tuple[str | None, str | None]:
    """(url, id): the entry's own link (relative ones resolved), else a URL-like GUID; the
    id is given only when the URL cannot tell the entry apart: items of one page told apart
    by anchors, and entries without a link (then the GUID, else the content, names it)."""
    guid = str(entry.get("id") or "").strip() or None
    link = _http(entry.get("link"), base)
    if link:
        fragment = link.partition("#")[2]
        if fragment and guid and guid.endswith("#" + fragment):
            return link, article_id(None, guid)
        return link, None
    if guid and (link := _http(guid, None)):
        return link, None
    text = " ".join(filter(None, _body(entry)))
    if not guid and not text.strip():
        return None, None  # a title alone does not tell entries apart
    return None, article_id(None, scoped_guid(guid, feed_url), f"{entry.get('title')}\n{text}")


def entries_to_articles(parsed: Parsed, feed: FeedSource) -> Iterator[RawArticle | tuple[str, str]]:
    """Feed entries as RawArticle, or (entry, reason) for an entry that cannot be one."""
    feed_source = feed.name or parsed.feed.get("title") or None
    base = str(parsed.feed.get("link") or "") or feed.url
    site = _http(parsed.feed.get("link"), feed.url)
    for entry in parsed.entries:
        source = (entry.get("source") or {}).get("title") or feed_source
        url, own_id = _identity(entry, base, feed.url)
        html, summary = _body(entry)
        plain = summary if summary and not html and not _TAG.search(summary) else None
        what = f"{feed.url} :: {_name(entry)}"
        if not url and not own_id:
            link = entry.get("link")
            yield (what, f"invalid feed entry: link {link!r} is not a url, and the entry has "
                   "no id or text to identify it" if link else
                   "feed entry has no link, no id and no text: nothing to identify")
            continue
        fields: dict[str, Any] = {
            "id": own_id, "url": url, "title": entry.get("title"), "html": html,
            "text": plain, "summary": summary if not html and not plain else None,
            "author": entry.get("author"), "published": entry_time(entry), "source": source,
            "feed_url": feed.url, "guid": entry.get("id"), "site_url": site}
        try:
            yield _raw(fields)
        except ValidationError as exc:
            first = exc.errors()[0]
            yield (what, f"invalid feed entry: {first['msg']} "
                   f"(field {'.'.join(map(str, first['loc']))})")


def _raw(fields: dict[str, Any]) -> RawArticle:
    """The RawArticle; a link pydantic refuses is dropped (the GUID or content names the
    entry then) rather than the entry."""
    try:
        return RawArticle(**fields)
    except ValidationError as exc:
        body = " ".join(filter(None, (fields["title"], fields["html"], fields["text"],
                                      fields["summary"])))
        if exc.errors()[0]["loc"][:1] != ("url",) or not (fields["guid"] or body.strip()):
            raise
    own = fields["id"] or article_id(None, scoped_guid(fields["guid"], fields["feed_url"]), body)
    return RawArticle(**{**fields, "url": None, "id": own})


def _name(entry: Mapping[str, Any]) -> str:
    """How a dead letter names an entry: its title and its id (or link)."""
    title = " ".join(str(entry.get("title") or "").split())[:200]
    key = str(entry.get("id") or entry.get("link") or "").strip()
    return f"{title} [{key}]" if title and key else title or key or "entry without title or id"
