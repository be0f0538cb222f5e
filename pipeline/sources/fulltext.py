"""Full text for entries that carry only a summary (``fetch_full_text: true`` on the feed).

The article page is fetched with the same politeness as feeds (per-host limit and delay,
deadline, size cap, redirect checks) and handed to the clean stage as ``RawArticle.html``,
the summary kept. The clean stage recognises paywall, consent and bot-challenge pages and
raises NotAnArticle, which the runtime dead-letters with the reason — they are recorded,
never indexed as article text. A page that cannot be fetched leaves the summary in place.
"""

from __future__ import annotations

import logging

from pipeline.models import FeedSource, RawArticle
from pipeline.processing.clean.extract import decode_html
from pipeline.sources.errors import FeedError
from pipeline.sources.http import Fetcher

logger = logging.getLogger(__name__)


def needs_full_text(raw: RawArticle) -> bool:
    return raw.html is None and (raw.link or "").startswith(("http://", "https://"))


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"'")
    return None


async def fill_full_text(fetcher: Fetcher, feed: FeedSource, raws: list[RawArticle]) -> int:
    """Fetch the page of every summary-only entry; returns how many pages were filled."""
    filled = 0
    for raw in raws:
        if not needs_full_text(raw):
            continue
        try:
            page = await fetcher.get(str(raw.link), headers=feed.headers or {}, proxy=feed.proxy)
        except FeedError as exc:
            logger.info("full text not fetched url=%s error=%s", raw.url, exc)
            continue
        content_type = page.headers.get("content-type", "")
        if page.status != 200 or ("html" not in content_type and content_type):
            continue
        raw.summary = raw.summary or raw.text
        raw.text = None
        raw.html = decode_html(page.content, _charset(content_type))
        filled += 1
    return filled
