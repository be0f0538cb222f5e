"""OPML 1.0/2.0 subscription lists: read (nested outlines flattened) and write.

``read_opml`` returns ``[{"url", "name"}]`` for every outline with an ``xmlUrl``;
``write_opml`` renders feeds as OPML 2.0. Imported feeds are added to config/feeds.yaml by
``pipeline.config.files.append_feeds`` (comments kept when the file allows, never twice).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime

from pipeline.models import FeedSource
from pipeline.sources.errors import FeedError
from pipeline.sources.safety import check_xml


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
    for outline in root.iter("outline"):
        attrs = {k.lower(): v.strip() for k, v in outline.attrib.items()}
        url = attrs.get("xmlurl")
        if url and url not in found:
            name = attrs.get("title") or attrs.get("text")
            found[url] = {"url": url, **({"name": name} if name else {})}
    return list(found.values())


def write_opml(feeds: Iterable[FeedSource], title: str = "newswire feeds") -> str:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC))
    body = ET.SubElement(root, "body")
    for feed in feeds:
        name = feed.name or feed.url
        attrs = {"type": "rss", "text": name, "title": name, "xmlUrl": feed.url}
        if not feed.enabled:
            attrs["isDisabled"] = "true"  # ignored by readers that do not know it
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
