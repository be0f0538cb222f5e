"""Main-text and metadata extraction from an HTML page (trafilatura), and HTML decoding.

Measured on the development extraction set (see ``evaluation/extraction.py``):
trafilatura with ``favor_precision=True`` and ``include_comments=False`` beats its
default, its recall mode and its fast (no-fallback) mode, so one extractor run per
page is enough. The text it returns still goes through newswire's own text pass.

The page is parsed once: metadata is read from the tree (``metadata.py``), then
trafilatura extracts the text from the same tree (it works on its own copy) without
its metadata pass, which costs more than the parse (see ``metadata.py``).
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

import trafilatura
from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement

from pipeline.processing.clean.metadata import parse, read_metadata

logger = logging.getLogger(__name__)

_OPTIONS = {
    "favor_precision": True,
    "include_comments": False,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "with_metadata": False,  # read from the same tree by metadata.py, at a fraction
}


@dataclass(frozen=True, slots=True)
class Extracted:
    """What one page gives: main text (one paragraph a line) and its metadata."""

    text: str
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    sitename: str | None = None
    page_title: str | None = None
    canonical_url: str | None = None
    tree: HtmlElement | None = field(default=None, repr=False, compare=False)  # for late lookups


_TITLE_TAG = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def page_title(html: str) -> str | None:
    """The <title> of a page, for recognising challenge and error pages cheaply."""
    match = _TITLE_TAG.search(html[:20000])
    return " ".join(match.group(1).split()) if match else None


def extract_html(html: str, url: str | None = None, precision: bool = True) -> Extracted:
    """Extract the main text and metadata of ``html``; empty text if there is none.
    ``precision=False``: trafilatura's balanced default instead of its precision mode."""
    tree = parse(html)
    if tree is None:
        return Extracted(text="", page_title=page_title(html))
    meta = read_metadata(tree, url)
    try:
        options = _OPTIONS if precision else {**_OPTIONS, "favor_precision": False}
        doc = trafilatura.bare_extraction(tree, url=url, **options)  # type: ignore[arg-type]
    except Exception as exc:  # trafilatura/lxml raise many kinds on broken markup
        logger.debug("extraction failed url=%s error=%r", url, exc)
        doc = None
    text = "" if doc is None or isinstance(doc, dict) else doc.text or ""
    return Extracted(
        text=text,
        title=meta.title,
        author=meta.author,
        published=meta.published,
        sitename=meta.sitename,
        page_title=meta.page_title,
        canonical_url=meta.canonical_url,
        tree=tree,
    )


_TAG = re.compile(r"<(?:[a-zA-Z][\w:-]*[\s/>]|!--|/[a-zA-Z])")
_DOCUMENT = re.compile(r"<(?:html|body|head|!doctype)\b", re.IGNORECASE)
_BLOCKS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr",
           "section", "article", "header", "footer", "figure", "figcaption", "pre", "ul", "ol",
           "dd", "dt", "table", "hr")
_DROP = ("script", "style", "noscript", "iframe", "form", "template", "svg")


def looks_like_html(markup: str) -> bool:
    """Whether ``markup`` has tags at all (feeds sometimes put plain text in HTML fields)."""
    return _TAG.search(markup[:20000]) is not None


def is_fragment(markup: str) -> bool:
    """A snippet of markup (a feed's content:encoded) rather than a whole page."""
    return _DOCUMENT.search(markup[:5000]) is None


def fragment_text(markup: str) -> str:
    """Text of an HTML fragment with one block (paragraph, list item, heading) a line."""
    try:
        root = lxml_html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return ""
    for element in list(root.iter(*_DROP)):
        element.drop_tree()
    for element in root.iter(*_BLOCKS):
        element.tail = "\n" + (element.tail or "")
        element.text = "\n" + (element.text or "")
    return str(root.text_content())


_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([-\w.:]+)""", re.IGNORECASE)
# Labels that browsers (WHATWG) decode as windows-1252.
_AS_CP1252 = {"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "iso8859-1", "l1"}


def declared_charset(data: bytes) -> str | None:
    """The charset a page declares in its first bytes (meta tag or XML prolog)."""
    head = data[:4096]
    match = _CHARSET.search(head) or _XML_ENCODING.search(head)
    if match is None:
        return None
    label = match.group(1).decode("ascii", "ignore").lower()
    if label in _AS_CP1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_html(data: bytes, charset: str | None = None) -> str:
    """Decode page bytes robustly: BOM, then UTF-8, then the declared charset, then a guess."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace").lstrip("\ufeff")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for candidate in (charset, declared_charset(data)):
        if candidate:
            try:
                return data.decode(candidate)
            except (UnicodeDecodeError, LookupError):
                continue
    try:
        from charset_normalizer import from_bytes  # trafilatura's own dependency
    except ImportError:  # pragma: no cover
        return data.decode("cp1252", errors="replace")
    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        return data.decode(best.encoding, errors="replace")
    return data.decode("utf-8", errors="replace")


_POST_CLASSES = ("twitter-tweet", "instagram-media", "tiktok-embed")
_ANCHORS = frozenset({"p", "h2", "h3", "h4", "li", "blockquote", "figcaption", "td"})
_NON_WORD = re.compile(r"[\W_]+")


def _key(text: str) -> str:
    return _NON_WORD.sub(" ", text.casefold()).strip()[:80]


def with_embedded_posts(tree: HtmlElement, text: str) -> str:
    """``text`` with the embedded social posts (tweets, Instagram, TikTok blockquotes) that
    the extractor dropped put back after the paragraph they follow on the page: quoted
    posts are reporting (a club's statement, a minister's reply).

    A post is two lines: its own text, then its attribution ("— Name (@handle) date")."""
    lines = text.split("\n")
    at = {_key(line): i for i, line in enumerate(lines) if line.strip()}
    after: dict[int, list[str]] = {}  # line index (-1: before the text) -> posts' lines
    anchor = -1
    skip: HtmlElement | None = None
    for element in tree.iter(etree.Element):
        if skip is not None and skip in element.iterancestors():
            continue
        cls = element.get("class") or ""
        if element.tag == "blockquote" and any(c in cls for c in _POST_CLASSES):
            skip = element
            post = _post_lines(element)
            if post and _key(post[0]) not in at:
                after.setdefault(anchor, []).extend(post)
        elif element.tag in _ANCHORS:
            found = at.get(_key(element.text_content()))
            if found is not None:
                anchor = found
    if not after:
        return text
    out = after.get(-1, [])
    for i, line in enumerate(lines):
        out.append(line)
        out.extend(after.get(i, ()))
    return "\n".join(out)


def _post_lines(post: HtmlElement) -> list[str]:
    said = [" ".join(p.text_content().split()) for p in post.iter("p")]
    whole = " ".join(post.text_content().split())
    body = " ".join(s for s in said if s)
    rest = whole.replace(body, "", 1).strip() if body else whole
    return [line for line in (body, rest) if line]
