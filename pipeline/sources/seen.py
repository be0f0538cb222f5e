"""The same article met in several feeds: ingested once, remembered in each.

Every polled entry gets its identity keys (canonical URL, globally unique GUID, content
fingerprint; see pipeline.identity). When any key is already known, the entry takes the
known article's id (the runtime then skips it as already processed); either way the
``seen_in`` table gains (article id, feed url).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from pipeline.identity import article_id, identity_keys
from pipeline.models import RawArticle


class SeenStore(Protocol):
    def article_for_keys(self, keys: list[str]) -> str | None: ...
    def remember_keys(self, article_id: str, keys: list[str]) -> None: ...
    def add_seen_in(self, article_id: str, feed_url: str, at: str) -> bool: ...


def _keys(raw: RawArticle) -> list[str]:
    keys = identity_keys(raw.link if raw.id is None else None, raw.guid, raw.title, _body(raw))
    return [f"id:{raw.id}", *keys] if raw.id else keys


def _body(raw: RawArticle) -> str | None:
    return raw.html or raw.text or raw.summary


def _content_id(raw: RawArticle) -> str:
    return article_id(None, None, f"{raw.title or ''}\n{_body(raw) or ''}")


def _reused(raw: RawArticle, keys: list[str], batch: dict[str, str],
            contents: dict[str, str]) -> list[str]:
    """Keys for an entry whose link or GUID an earlier entry of the same poll already has
    with other text (a feed reusing an id for another post): an article of its own, named
    by its content. Otherwise its keys unchanged."""
    earlier = next((batch[k] for k in keys if k in batch), None)
    if earlier is None or contents.get(earlier) in (None, _content_id(raw)):
        return keys
    raw.id = _content_id(raw)
    return [f"id:{raw.id}", *(k for k in keys if k.startswith("fp:"))]


@dataclass
class Resolution:
    """Entries not met before, and their keys to remember once the sink has taken them."""

    fresh: list[RawArticle] = field(default_factory=list)
    pending: list[tuple[str, list[str]]] = field(default_factory=list)


def resolve(store: SeenStore, feed_url: str, raws: list[RawArticle]) -> Resolution:
    """Split entries into fresh ones and ones met before (in any feed; those take the known
    article's id). Every entry is recorded as seen in this feed."""
    at = datetime.now(UTC).isoformat()
    out = Resolution()
    batch: dict[str, str] = {}
    contents: dict[str, str] = {}  # this poll's articles: a hash of their text
    for raw in raws:
        keys = _reused(raw, _keys(raw), batch, contents)
        own = raw.id or article_id(raw.link, raw.guid, _body(raw))
        known = next((batch[k] for k in keys if k in batch), None) or \
            store.article_for_keys(keys)
        if known is None:
            out.fresh.append(raw)
            out.pending.append((own, keys))
            batch.update(dict.fromkeys(keys, own))
            contents[own] = _content_id(raw)
        elif known != own:
            raw.id = known
            store.remember_keys(known, keys)  # new variants point to the known article
        store.add_seen_in(known or own, feed_url, at)
    return out


def remember(store: SeenStore, resolution: Resolution) -> None:
    """After the sink accepted the fresh entries: their keys mark them as met."""
    for own, keys in resolution.pending:
        store.remember_keys(own, keys)
