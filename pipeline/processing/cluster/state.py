"""The clusterer's state, as small JSON values under short keys of the mapping it is given.

    meta            {"n": articles seen, "clock": newest timestamp, "closed": last closed bucket,
                     "pruned": day of the last df pruning}
    df:<feature>    document frequency of a feature (words, e:names, n:numbers); pruned
                    daily once rarer than 1 in ``IDF_RATIO_CAP`` articles (IDF saturates)
    a:<article>     {"s": story, "d": copied article or null, "g": MinHash signature (while open)}
    s:<story>       the Story record (pydantic JSON dump)
    v:<story>       working vector of an open story (see cluster.py); absent once closed
    ix:<feature>    open story ids posted under a salient feature (newest last, capped)
    b:<band key>    article ids of open stories in one MinHash-LSH bucket
    al:<story>      id of the story a merged story now lives in
    qb              sorted hour buckets that have stories to close / purge
    q:<bucket>      story ids whose last article fell in that hour

Each write is one ``state[key] = value`` (one changelog record in a Faust table; the
embedded runtime's SQLite mapping writes the ``df:``, ``ix:`` and ``b:`` keys a batch changed
as one row, see pipeline/storage/sqlite/kv.py). Reads go
through a cache: the clusterer is the only writer, so the cache never goes stale; a new
clusterer over the same mapping reads everything back and continues identically.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

from pipeline.processing.cluster.similarity import IDF_RATIO_CAP

_MISSING = object()
CACHE_LIMIT = 500_000


class StateStore:
    """Read-through cache over the state mapping; every change is written through at once."""

    def __init__(self, state: MutableMapping[str, Any]) -> None:
        self._state = state
        self._cache: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        value = self._cache.get(key, _MISSING)
        if value is _MISSING:
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            value = self._state.get(key)
            self._cache[key] = value
        return value

    def put(self, key: str, value: Any) -> None:
        self._cache[key] = value
        self._state[key] = value

    def delete(self, key: str) -> None:
        self._cache[key] = None
        if key in self._state:
            del self._state[key]

    # --- list-valued keys -------------------------------------------------------------

    def append(self, key: str, item: str, cap: int | None = None) -> None:
        """Add ``item`` to the list at ``key`` unless present; drop the oldest past ``cap``."""
        items: list[str] | None = self.get(key)
        if items is None:
            self.put(key, [item])
            return
        if item in items:
            return
        items.append(item)
        if cap is not None and len(items) > cap:
            del items[: len(items) - cap]
        self.put(key, items)

    def remove(self, key: str, item: str) -> None:
        """Remove ``item`` from the list at ``key``; delete the key when it empties."""
        items: list[str] | None = self.get(key)
        if not items or item not in items:
            return
        items.remove(item)
        if items:
            self.put(key, items)
        else:
            self.delete(key)

    def replace(self, key: str, old: str, new: str) -> None:
        """Swap ``old`` for ``new`` in the list at ``key`` (no duplicates)."""
        items: list[str] | None = self.get(key)
        if not items or old not in items:
            return
        if new in items:
            items.remove(old)
        else:
            items[items.index(old)] = new
        self.put(key, items)

    # --- document frequencies ---------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] | None = self.get("meta")
        if meta is None:
            meta = {"n": 0, "clock": None, "closed": None}
        return meta

    def count_document(self, features: Iterable[str]) -> dict[str, int]:
        """Count one more document holding ``features``; their new document frequencies."""
        names = list(features)
        keys = ["df:" + feature for feature in names]
        cached, get = self._cache.get, self.get
        values = []
        for key in keys:
            count = cached(key, _MISSING)
            if count is _MISSING:
                count = get(key)
            values.append((count or 0) + 1)
        written = dict(zip(keys, values, strict=True))
        self._cache.update(written)
        self._state.update(written)  # one write per key, as many as before; batched
        return dict(zip(names, values, strict=True))

    def df(self, feature: str) -> int:
        return int(self.get("df:" + feature) or 0)

    def prune_df(self, n_docs: int) -> int:
        """Drop counts of features rarer than 1 in ``IDF_RATIO_CAP`` documents; how many.

        Their IDF is already the saturated maximum, as with no count at all, so no score
        changes now; it bounds the counts kept to ``features per article × IDF_RATIO_CAP``.
        """
        floor = (n_docs + 1.0) / IDF_RATIO_CAP - 0.5  # df ≤ floor: IDF saturated
        if floor < 1:
            return 0
        state = self._state
        gone = [k for k in list(state) if k.startswith("df:") and (state.get(k) or 0) <= floor]
        for key in gone:
            self.delete(key)
        return len(gone)

    # --- stories ----------------------------------------------------------------------

    def resolve(self, story_id: str) -> str:
        """Follow merge aliases to the story that holds ``story_id`` now."""
        seen = 0
        while seen < 64:
            target = self.get("al:" + story_id)
            if target is None:
                return story_id
            story_id = target
            seen += 1
        return story_id

    def enqueue(self, bucket: int, story_id: str) -> None:
        """Remember to look at ``story_id`` when ``bucket`` (an hour) leaves the window."""
        buckets: list[int] = self.get("qb") or []
        if bucket not in buckets:
            buckets.append(bucket)
            buckets.sort()
            self.put("qb", buckets)
        self.append(f"q:{bucket}", story_id)
