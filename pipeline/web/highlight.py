"""Snippets to HTML. Article text is untrusted: it is escaped first, and only then are the
``[[match]]`` markers of pipeline.storage.snippet turned into ``<mark>`` elements."""

from __future__ import annotations

from urllib.parse import urlsplit

from markupsafe import Markup, escape


def marked(snippet: str) -> Markup:
    """``a [[b]] c`` → ``a <mark>b</mark> c``, everything else escaped; unpaired markers
    stay as text."""
    out: list[str] = []
    rest = snippet
    while True:
        start = rest.find("[[")
        end = rest.find("]]", start + 2) if start >= 0 else -1
        if start < 0 or end < 0:
            out.append(str(escape(rest)))
            return Markup("".join(out))
        out += [str(escape(rest[:start])), "<mark>", str(escape(rest[start + 2:end])),
                "</mark>"]
        rest = rest[end + 2:]


def plain(snippet: str) -> str:
    """The snippet without markers (for JSON consumers that want text)."""
    return snippet.replace("[[", "").replace("]]", "")


def safe_href(url: str) -> str:
    """Only http(s) links leave the page; anything else (``javascript:``…) becomes ``#``."""
    return url if urlsplit(url).scheme.lower() in ("http", "https") else "#"
