"""Learned per-source junk: lines that recur across many articles of one source.

A site's template leaks lines no fixed rule knows ("Anzeige", "Get the Valley Courier
app", a section's standing disclaimer). Seen in enough *distinct* articles of one source,
such a line is junk for that source:

    runtime ─known(source)─▶ fingerprints ─▶ Cleaner.clean(raw, learned) drops them
            ◀─observe(source, candidates)── the cleaner's candidate lines, after commit

The state is a MutableMapping of JSON-able values owned by the runtime (SQLite in the
embedded runtime, committed with the batch); this class only reads and writes it, so
the clean stage itself stays pure. Per source it keeps a count of articles, a count per
line fingerprint (capped, halved every ``window`` articles so that it follows template
changes) and the learned set. Copies of one article (same longest line) count once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from pipeline.models import RawArticle
from pipeline.processing.clean.normalize import squash

MAX_WORDS = 40  # longer lines are prose: never learned
MIN_ARTICLES = 5  # distinct articles of one source a line must appear in
MIN_SHARE = 0.1  # ... and this share of the source's recent articles
MAX_LINES = 2000  # fingerprints counted per source
WINDOW = 400  # articles between halvings of the counts
_RECENT = 200  # article signatures remembered per source (copies count once)


def fingerprint(line: str) -> str:
    """A short, stable key of a normalised line (case and punctuation folded)."""
    return hashlib.blake2b(squash(line).encode(), digest_size=8).hexdigest()


def is_candidate(line: str) -> bool:
    """Whether a line is short enough to be learned as junk."""
    return line.count(" ") < MAX_WORDS and any(ch.isalnum() for ch in line)


def junk_source(raw: RawArticle) -> str:
    """The key learned junk is kept under: the raw's source, else its host."""
    if raw.source:
        return raw.source
    host = (urlsplit(str(raw.url)).hostname or "").lower()
    return host.removeprefix("www.") or "unknown"


class SourceJunk:
    """Counts line fingerprints per source in ``state`` and says which are junk."""

    def __init__(self, state: MutableMapping[str, Any], *, min_articles: int = MIN_ARTICLES,
                 min_share: float = MIN_SHARE, max_lines: int = MAX_LINES,
                 window: int = WINDOW) -> None:
        self.state = state
        self.min_articles = min_articles
        self.min_share = min_share
        self.max_lines = max_lines
        self.window = window
        self._known: dict[str, frozenset[str]] = {}

    def known(self, source: str) -> frozenset[str]:
        """Fingerprints of the lines learned as junk for ``source``."""
        found = self._known.get(source)
        if found is None:
            entry = self.state.get(source)
            found = self._known[source] = frozenset(entry["junk"] if entry else ())
        return found

    def observe(self, source: str, fingerprints: Iterable[str], signature: str = "") -> None:
        """Count the candidate line fingerprints of one article of ``source``.

        ``signature`` identifies the article's body (the cleaner gives the fingerprint of
        its longest paragraph): an article whose signature was seen recently is a copy or
        an update and is not counted again.
        """
        lines = list(dict.fromkeys(fingerprints))
        if not lines:
            return
        entry = self.state.get(source) or {"n": 0, "lines": {}, "recent": [], "junk": []}
        if signature:
            if signature in entry["recent"]:
                return
            entry["recent"] = [*entry["recent"][-(_RECENT - 1):], signature]
        counts: dict[str, int] = entry["lines"]
        entry["n"] += 1
        for fp in lines:
            counts[fp] = counts.get(fp, 0) + 1
        if entry["n"] >= self.window:
            entry["n"] //= 2
            entry["lines"] = counts = {fp: c // 2 for fp, c in counts.items() if c > 1}
        if len(counts) > self.max_lines:
            # Keep the most frequent; among equals, the most recent (still able to recur).
            ranked = sorted(enumerate(counts.items()), key=lambda ic: (ic[1][1], ic[0]),
                            reverse=True)
            entry["lines"] = counts = dict(kv for _, kv in ranked[: self.max_lines * 3 // 4])
        floor = max(self.min_articles, self.min_share * entry["n"])
        entry["junk"] = sorted(fp for fp, c in counts.items() if c >= floor)
        self.state[source] = entry  # reassign: mappings persist on set
        self._known.pop(source, None)
