"""The clean stage: RawArticle → Article (main text, metadata, identity). Pure: no I/O.

    html ─extract (trafilatura) + embedded posts─┐
                                                 ├─▶ lines ─normalise─▶ junk rules
    text / summary ──────────────────────────────┘
      ─▶ head (dateline, headline, byline) ─▶ duplicates ─▶ paragraphs + metadata ─▶ Article

Every line of input gets a verdict: kept, dropped by a named rule (including
``learned-source-junk``: lines learned as junk for the article's source, passed in as
``learned`` fingerprints by the runtime, see ``source_junk.py``), or moved into a
metadata field. ``Cleaner.explain`` returns those verdicts (``newswire extract
--explain`` prints them); ``Cleaner.clean`` returns the article. Pages with no usable
text raise ``NotAnArticle`` (consent, paywall, bot challenge, error page, empty).
Every rule has a name (``rules.py``) by which it can be turned off; the author is split
into people's names and the byline's role (``authors.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pipeline.errors import InvalidInput, NotAnArticle
from pipeline.identity import article_id
from pipeline.models import Article, RawArticle
from pipeline.processing.clean.authors import split_author
from pipeline.processing.clean.extract import (
    Extracted,
    extract_html,
    fragment_text,
    is_fragment,
    looks_like_html,
    with_embedded_posts,
)
from pipeline.processing.clean.language import detect_language
from pipeline.processing.clean.metadata import search_author
from pipeline.processing.clean.normalize import repair, squash
from pipeline.processing.clean.rules import DEFAULT_OFF, check_rules
from pipeline.processing.clean.source_junk import fingerprint, is_candidate
from pipeline.processing.clean.textpass import (
    KEEP,
    LEARNED,
    TITLE_SEPARATOR,
    TextPass,
    Verdict,
    text_pass,
)
from pipeline.processing.clean.walls import wall_reason

__all__ = ["KEEP", "Cleaner", "Explanation", "Verdict", "detect_language", "text_pass"]

logger = logging.getLogger(__name__)

# Sizes in characters (not words, so that unspaced scripts count the same).
_MIN_HTML_CHARS = 120  # less text extracted from a page: not an article
_WALL_CHARS = 900  # a page with a wall's wording and less text is that wall
_POST_MARKS = ("twitter-tweet", "instagram-media", "tiktok-embed")  # embedded posts' classes


@dataclass(slots=True)
class Explanation:
    """The line-by-line account of a clean: verdicts, the result or the refusal."""

    verdicts: list[Verdict] = field(default_factory=list)
    article: Article | None = None
    error: str | None = None

    @property
    def kept(self) -> list[str]:
        return [v.line for v in self.verdicts if v.kept]

    @property
    def dropped(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.kept]

    @property
    def candidates(self) -> list[str]:
        """Fingerprints of the lines that may be a source's junk (short lines that no fixed
        rule dropped), for ``SourceJunk.observe``."""
        return [fingerprint(v.line) for v in self.verdicts
                if v.rule in (KEEP, LEARNED) and is_candidate(v.line)]

    @property
    def signature(self) -> str:
        """A key of the article's body (its longest kept line): copies share it."""
        kept = self.kept
        return fingerprint(max(kept, key=len)) if kept else ""


class Cleaner:
    """Turns a RawArticle into a clean Article; stateless and safe to share.

    ``learned`` (optional everywhere) holds the fingerprints of lines learned as junk for
    the raw's source; without it only the fixed rules apply. ``disabled`` names rules of
    ``rules.RULES`` to turn off (ablation, cross-validation; default ``rules.DEFAULT_OFF``);
    ``extract`` replaces the page extractor (the evaluation memoises it).
    """

    def __init__(self, disabled: Iterable[str] | None = None,
                 extract: Callable[[str, str, bool], Extracted] = extract_html) -> None:
        self.disabled = check_rules(DEFAULT_OFF if disabled is None else disabled)
        self._extract = extract
        self._precision = "favor-precision" not in self.disabled
        self._posts = "embedded-posts" not in self.disabled

    def clean(self, raw: RawArticle, learned: frozenset[str] = frozenset()) -> Article:
        """Raises ``InvalidInput`` (no body at all) or ``NotAnArticle`` (no usable text)."""
        return self.run(raw, learned).article  # type: ignore[return-value]

    def explain(self, raw: RawArticle, learned: frozenset[str] = frozenset()) -> Explanation:
        """Like ``clean`` but returns every line's verdict; refusals go in ``error``."""
        try:
            return self.run(raw, learned)
        except (InvalidInput, NotAnArticle) as exc:
            return Explanation(error=str(exc))

    def run(self, raw: RawArticle, learned: frozenset[str] = frozenset()) -> Explanation:
        """The article with every line's verdict; raises like ``clean``."""
        url = raw.link or ""  # None: an entry with no link of its own
        extracted: Extracted | None = None
        if raw.html and raw.html.strip():
            if not looks_like_html(raw.html):
                body = raw.html  # plain text sent as HTML
            elif is_fragment(raw.html):
                body = fragment_text(raw.html)
            else:
                extracted = self._extract(raw.html, url, self._precision)
                body = extracted.text
                if self._posts and extracted.tree is not None and _has_post(raw.html):
                    body = with_embedded_posts(extracted.tree, body)
        elif raw.text and raw.text.strip():
            body = raw.text
        elif raw.summary and raw.summary.strip():
            body = fragment_text(raw.summary) if looks_like_html(raw.summary) else raw.summary
        else:
            raise InvalidInput(f"article {url or raw.guid or raw.title} has neither html nor text")
        known_author = raw.author or _page_author(extracted)
        work = text_pass(body, known_title=raw.title or (extracted.title if extracted else None),
                         learned=learned, disabled=self.disabled, known_author=known_author)
        author, author_role = split_author(known_author or work.author)
        text = "\n\n".join(v.line for v in work.verdicts if v.kept)
        self._refuse_non_articles(text, body, raw, extracted)
        title = _title(raw, extracted, work, text)
        article = Article(
            id=raw.id or article_id(url, raw.guid, text),
            url=raw.link,
            site_url=raw.site_url,
            title=title,
            text=text,
            author=author,
            author_role=author_role,
            published=raw.published or (extracted.published if extracted else None)
            or work.published,
            source=_source(raw, extracted),
            site_name=(extracted.sitename if extracted else None) or raw.source,
            canonical_url=extracted.canonical_url if extracted else None,
            lang=detect_language(text),
            feed_url=raw.feed_url,
            fetched=raw.fetched,
        )
        return Explanation(verdicts=work.verdicts, article=article)

    @staticmethod
    def _refuse_non_articles(
        text: str, body: str, raw: RawArticle, extracted: Extracted | None
    ) -> None:
        url = raw.link or raw.guid or raw.title or ""
        size = len(text)
        if size < _WALL_CHARS:
            page_title = extracted.page_title if extracted else None
            reason = wall_reason(page_title, body if size else raw.html or body)
            if reason and (size < _MIN_HTML_CHARS or _wall_dominates(text, reason)):
                raise NotAnArticle(reason, url)
        if not any(ch.isalnum() for ch in text):
            raise NotAnArticle("empty", url)
        if extracted is not None and size < _MIN_HTML_CHARS:
            raise NotAnArticle("no main text", url)


def _has_post(html: str) -> bool:
    return any(mark in html for mark in _POST_MARKS)  # 5x faster than one regex


def _wall_dominates(text: str, reason: str) -> bool:
    """Whether a short text is mostly a wall's wording (half its lines name the wall)."""
    lines = text.split("\n\n")
    hits = sum(1 for line in lines if wall_reason(line) == reason)
    return hits * 2 >= len(lines)


def _strip_site_name(title: str, sitename: str | None) -> str:
    """Drop a trailing or leading " | Site name" from a page title."""
    parts = TITLE_SEPARATOR.split(title)
    if len(parts) > 1 and sitename:
        site = squash(sitename)
        kept = [p for p in parts if squash(p) != site]
        if kept and len(kept) < len(parts):
            return " - ".join(kept)
    return title

def _title(raw: RawArticle, extracted: Extracted | None, work: TextPass, text: str) -> str:
    page = None
    if extracted and extracted.title:
        page = _strip_site_name(extracted.title, extracted.sitename)
    for candidate in (raw.title, page, work.title):
        if candidate and candidate.strip():
            return " ".join(repair(candidate).split())
    first = text.split("\n", 1)[0]
    words = first.split()
    return " ".join(words[:12]) + (" …" if len(words) > 12 else "") if words else "(untitled)"


def _page_author(extracted: Extracted | None) -> str | None:
    """Meta tags, else the page's byline elements (a byline line in the text comes last)."""
    if extracted is None:
        return None
    if extracted.author:
        return extracted.author
    return search_author(extracted.tree) if extracted.tree is not None else None


def _source(raw: RawArticle, extracted: Extracted | None) -> str:
    if raw.source:
        return raw.source
    if extracted and extracted.sitename:
        return extracted.sitename
    host = (urlsplit(raw.link or raw.site_url or "").hostname or "").lower()
    return host.removeprefix("www.") or "unknown"

