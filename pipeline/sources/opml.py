"""OPML 1.0/2.0 subscription lists: read, check and write.

``read_opml`` returns ``[{"url", "name", "group"}]`` for every outline with an ``xmlUrl``;
an outline's folders (outlines without ``xmlUrl`` around it) become its ``group``
(``World/Europe``). ``check_outlines`` keeps the feeds ``FeedSource`` accepts (the config
would refuse the others: ``ftp://``, ``javascript:``) and drops those already listed under
another spelling (``feed_key``: scheme and host case, default port, trailing slash; local
paths resolved). ``write_opml`` renders feeds as OPML 2.0 with their groups as folders and
local files as ``file://`` URLs, so an export imports again. Imported feeds are added to
config/feeds.yaml by ``pipeline.config.files.append_feeds`` (comments kept).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from urllib.request import url2pathname

from pydantic import ValidationError

from pipeline.models import FeedSource
from pipeline.sources.errors import FeedError
from pipeline.sources.safety import check_xml

_DEFAULT_PORTS = {"http": 80, "https": 443}


def read_opml(content: bytes) -> list[dict[str, str]]:
    """Feeds of an OPML document; FeedError(kind="parse") says what is wrong."""
    check_xml(content)
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise FeedError(f"not a readable OPML file: {exc}", kind="parse") from exc
    if root.tag.lower() != "opml":
        raise FeedError(f"not an OPML file: root element is <{root.tag}>", kind="parse")
    found: dict[str, dict[str, str]] = {}
    body = root.find("body")
    _walk(root if body is None else body, (), found)
    return list(found.values())


def _walk(parent: ET.Element, folders: tuple[str, ...], found: dict[str, dict[str, str]]
          ) -> None:
    for outline in parent.findall("outline"):
        attrs = {k.lower(): v.strip() for k, v in outline.attrib.items()}
        url = attrs.get("xmlurl")
        name = attrs.get("title") or attrs.get("text")
        if not url:
            _walk(outline, folders + (name,) if name else folders, found)
            continue
        if url not in found:
            found[url] = {"url": url, **({"name": name} if name else {}),
                          **({"group": "/".join(folders)} if folders else {})}


def feed_key(url: str, base: Path) -> str:
    """The same feed however it is spelled: scheme and host lower-cased, default port and
    trailing slash dropped; a local path (or file:// URL) as its absolute path."""
    if url.lower().startswith("file://"):
        return str(Path(url2pathname(urlsplit(url).path)).resolve())
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return str((base / url).resolve())
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


def check_outlines(found: list[dict[str, str]], listed: Iterable[str], base: Path
                   ) -> tuple[list[dict[str, str]], list[str], int]:
    """(the feeds to add, a message per refused outline, how many were already listed).
    ``listed``: the URLs already in feeds.yaml; ``base``: the directory local paths are
    relative to (the config directory)."""
    known = {feed_key(url, base) for url in listed}
    new: list[dict[str, str]] = []
    refused: list[str] = []
    duplicates = 0
    for entry in found:
        try:
            FeedSource.model_validate(entry)
        except ValidationError as exc:
            reason = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
            refused.append(f"outline {entry.get('name') or entry['url']!r}: {reason}; "
                           "not imported")
            continue
        key = feed_key(entry["url"], base)
        if key in known:
            duplicates += 1
            continue
        known.add(key)
        new.append(entry)
    return new, refused, duplicates


def importable_url(url: str) -> str:
    """A feed URL another reader can use: a local path becomes an absolute file:// URL."""
    if "://" in url:
        return url
    return Path(url).resolve().as_uri()


def write_opml(feeds: Iterable[FeedSource], title: str = "newswire feeds") -> str:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC))
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {"": body}
    for feed in feeds:
        name = feed.name or feed.url
        attrs = {"type": "rss", "text": name, "title": name, "xmlUrl": importable_url(feed.url)}
        if not feed.enabled:
            attrs["isDisabled"] = "true"  # ignored by readers that do not know it
        ET.SubElement(_folder(folders, feed.group or ""), "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _folder(folders: dict[str, ET.Element], group: str) -> ET.Element:
    """The outline of a group (``World/Europe`` nests Europe in World), made on first use."""
    if group not in folders:
        parent, _, name = group.rpartition("/")
        folders[group] = ET.SubElement(_folder(folders, parent), "outline",
                                       {"text": name, "title": name})
    return folders[group]
