"""Story lifecycle in the clusterer's state: open, grow, merge, close, purge.

A story is *open* while it has a working vector ``v:<id>`` and index entries (salient-feature
postings ``ix:``, MinHash buckets ``b:``); it closes when its last article's arrival falls out
of the window (``v:<id>`` shrinks to a marker), and its record is purged ``retention`` later.
Both happen from the hour queue, so each article's cost depends on the window's contents,
never on all history.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pipeline.processing.cluster.decision import merge_evidence
from pipeline.processing.cluster.minhash import band_keys
from pipeline.processing.cluster.similarity import _WEIGHT_THEN_NAME, add_into, norm
from pipeline.processing.cluster.state import StateStore

logger = logging.getLogger(__name__)

CENTROID_CAP = 150  # features kept in a story's centroid
POSTED_CAP = 120  # salient features a story is posted under
POSTING_CAP = 64  # open stories kept per feature posting (newest)
TITLE_NAMES_CAP = 40  # headline names (and ages) kept per story
DAYS_CAP = 40  # named days kept per story
ARCHIVE_CENTROID = 10  # features of a closed story's centroid kept in the archive
ARCHIVE_TITLE = 4  # ... of its headline centroid
ARCHIVE_EVIDENCE = 8  # values kept per kind of evidence in the archive (as while open)
ARCHIVE_NAMES = 24  # names a closed story is found under (``ax:`` postings)
ARCHIVE_POSTING_CAP = 32  # closed stories kept per name posting (newest)
EVIDENCE_CAP = 8  # values kept per kind of evidence (who, where, ...) per story
HOUR = 3600


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def bucket(timestamp: float) -> int:
    return int(timestamp // HOUR)


def new_story(store: StateStore, story_id: str, article: dict[str, Any]) -> None:
    """Create empty open story ``story_id`` (its record is filled by ``add_article``).

    Times in the working vector: ``f``/``l`` the span of *published* times (None while no
    article had one), ``fa``/``la`` first and last arrival (the window follows ``la``).
    """
    ts = article["seen"]
    record = {
        "id": story_id,
        "headline": article["title"],
        "headline_article": article["id"],
        "article_ids": [],
        "sources": [],
        "topics": [],
        "first_seen": iso(ts),
        "last_seen": iso(ts),
        "near_copies": {},
        "merged_from": [],
    }
    vector = {
        "c": {},
        "cn": 0.0,
        "h": {},
        "hn": 0.0,
        "tn": [],
        "dn": [],
        "ev": {},
        "p": [],
        "o": [],
        "f": None,
        "l": None,
        "fa": article["arrival"],
        "la": article["arrival"],
        "hs": -1.0,
        "k": None,
    }
    store.put("s:" + story_id, record)
    store.put("v:" + story_id, vector)


def add_article(
    store: StateStore,
    story_id: str,
    article: dict[str, Any],
) -> None:
    """Add an article's record, vectors, postings and buckets to open story ``story_id``.

    ``article`` holds id, title, source, topics, near (copied id or None), vector, title_vector
    (both unit length), title_names, days (optional: the days it names), salient (features to
    post under), sig (and optionally its LSH band keys, bands), centrality, and times: event
    (published, or None), arrival (fetched), seen (event or arrival, for the record).
    """
    record = store.get("s:" + story_id)
    vector = store.get("v:" + story_id)
    record["article_ids"].append(article["id"])
    if article["source"] not in record["sources"]:
        record["sources"].append(article["source"])
    record["topics"].extend(t for t in article["topics"] if t not in record["topics"])
    if article["near"]:
        record["near_copies"][article["id"]] = article["near"]
    vector["cn"] = add_into(vector["c"], article["vector"], CENTROID_CAP)
    vector["hn"] = add_into(vector["h"], article["title_vector"], CENTROID_CAP)
    _add_names(vector["tn"], article["title_names"])
    _add_days(vector, article.get("days") or [])
    merge_evidence(vector.setdefault("ev", {}), article.get("evidence") or {}, EVIDENCE_CAP)
    _widen(vector, article["event"], article["arrival"])
    _widen_record(record, article["seen"], article["seen"])
    if article["title"] and (article["centrality"] > vector["hs"] or not record["headline"]):
        vector["hs"] = article["centrality"]
        record["headline"] = article["title"]
        record["headline_article"] = article["id"]
    for feature in article["salient"]:
        if len(vector["p"]) >= POSTED_CAP:
            break
        if feature not in vector["p"]:
            vector["p"].append(feature)
            store.append("ix:" + feature, story_id, POSTING_CAP)
    vector["o"].append(article["id"])
    for key in article.get("bands") or band_keys(article["sig"]):
        store.append("b:" + key, article["id"])
    store.put("a:" + article["id"], {"s": story_id, "d": article["near"], "g": article["sig"]})
    if vector["k"] != bucket(vector["la"]):
        vector["k"] = bucket(vector["la"])
        store.enqueue(vector["k"], story_id)
    store.put("s:" + story_id, record)
    store.put("v:" + story_id, vector)


def _add_names(names: list[str], new: list[str]) -> None:
    names.extend(f for f in new if f not in names and len(names) < TITLE_NAMES_CAP)


def _add_days(vector: dict[str, Any], new: list[str]) -> None:
    days: list[str] = vector.setdefault("dn", [])
    days.extend(f for f in new if f not in days and len(days) < DAYS_CAP)


def _parse(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def _widen(vector: dict[str, Any], event: float | None, arrival: float) -> None:
    if event is not None:
        vector["f"] = event if vector["f"] is None else min(vector["f"], event)
        vector["l"] = event if vector["l"] is None else max(vector["l"], event)
    vector["fa"], vector["la"] = min(vector["fa"], arrival), max(vector["la"], arrival)


def _widen_record(record: dict[str, Any], first: float, last: float) -> None:
    if first < _parse(record["first_seen"]):
        record["first_seen"] = iso(first)
    if last > _parse(record["last_seen"]):
        record["last_seen"] = iso(last)


def merge(store: StateStore, keep: str, gone: str) -> None:
    """Move open story ``gone`` into open story ``keep``; ``gone`` becomes an alias."""
    record, vector = store.get("s:" + keep), store.get("v:" + keep)
    old, old_vector = store.get("s:" + gone), store.get("v:" + gone)
    record["article_ids"].extend(old["article_ids"])
    record["sources"].extend(s for s in old["sources"] if s not in record["sources"])
    record["topics"].extend(t for t in old["topics"] if t not in record["topics"])
    record["near_copies"].update(old["near_copies"])
    record["merged_from"].extend([gone, *old["merged_from"]])
    vector["cn"] = add_into(vector["c"], old_vector["c"], CENTROID_CAP)
    vector["hn"] = add_into(vector["h"], old_vector["h"], CENTROID_CAP)
    _add_names(vector["tn"], old_vector["tn"])
    _add_days(vector, old_vector.get("dn") or [])
    merge_evidence(vector.setdefault("ev", {}), old_vector.get("ev") or {}, EVIDENCE_CAP)
    for event in (old_vector["f"], old_vector["l"]):
        _widen(vector, event, old_vector["fa"])
    _widen(vector, None, old_vector["la"])
    _widen_record(record, _parse(old["first_seen"]), _parse(old["last_seen"]))
    if old_vector["hs"] > vector["hs"] and old["headline"]:
        vector["hs"] = old_vector["hs"]
        record["headline"], record["headline_article"] = old["headline"], old["headline_article"]
    for feature in old_vector["p"]:
        if feature in vector["p"]:
            store.remove("ix:" + feature, gone)
        else:
            vector["p"].append(feature)
            store.replace("ix:" + feature, gone, keep)
    vector["o"].extend(old_vector["o"])
    for article_id in old["article_ids"]:
        entry = store.get("a:" + article_id)
        if entry is not None:
            entry["s"] = keep
            store.put("a:" + article_id, entry)
    for alias in [gone, *old["merged_from"]]:
        store.put("al:" + alias, keep)
    vector["k"] = bucket(vector["la"])
    store.enqueue(vector["k"], keep)
    store.put("s:" + keep, record)
    store.put("v:" + keep, vector)
    store.delete("s:" + gone)
    store.delete("v:" + gone)
    logger.debug("story merged keep=%s gone=%s", keep, gone)


def close(store: StateStore, story_id: str) -> None:
    """Take an open story out of the working set: drop its postings and MinHash buckets,
    keep a compact summary in the archive (``archive_summary``) until it is purged."""
    vector = store.get("v:" + story_id)
    if vector is None or vector.get("closed"):
        return
    for feature in vector["p"]:
        store.remove("ix:" + feature, story_id)
    for article_id in vector["o"]:
        entry = store.get("a:" + article_id)
        if entry is None:
            continue
        for key in band_keys(entry.get("g") or []):
            store.remove("b:" + key, article_id)
        entry.pop("g", None)
        store.put("a:" + article_id, entry)
    summary = archive_summary(vector)
    for feature in archive_names(summary):
        store.append("ax:" + feature, story_id, ARCHIVE_POSTING_CAP)
    store.put("v:" + story_id, summary)


def archive_summary(vector: dict[str, Any]) -> dict[str, Any]:
    """A closed story as the archive keeps it: its heaviest features, headline centroid,
    evidence and times; it is found under ``archive_names``."""
    centroid = _top({f: w for f, w in vector["c"].items() if "_" not in f}, ARCHIVE_CENTROID)
    titles = _top(vector["h"], ARCHIVE_TITLE)
    evidence = {k: v[:ARCHIVE_EVIDENCE] for k, v in (vector.get("ev") or {}).items()}
    return {
        "closed": True, "c": centroid, "cn": round(norm(centroid), 3), "h": titles,
        "hn": round(norm(titles), 3), "tn": vector["tn"][:ARCHIVE_EVIDENCE], "ev": evidence,
        "f": vector["f"], "l": vector["l"], "fa": vector["fa"], "la": vector["la"],
    }


def archive_names(summary: dict[str, Any]) -> list[str]:
    """The names an archived story is posted under: headline names, who and where."""
    evidence = summary.get("ev") or {}
    names = [f for f in summary.get("tn") or [] if f.startswith("e:")]
    names += [f for k in ("who", "where") for f in evidence.get(k, []) if f not in names]
    return names[:ARCHIVE_NAMES]


def reopen(store: StateStore, story_id: str) -> None:
    """Bring an archived story back into the working set (an article joins it)."""
    summary = store.get("v:" + story_id)
    for feature in archive_names(summary):
        store.remove("ax:" + feature, story_id)
    summary.pop("closed", None)
    summary.update({"dn": [], "p": [], "o": [], "hs": -1.0, "k": None})
    store.put("v:" + story_id, summary)


def _top(vector: dict[str, float], n: int) -> dict[str, float]:
    """The ``n`` heaviest features, weights rounded (the archive is kept small)."""
    kept = sorted(vector.items(), key=_WEIGHT_THEN_NAME, reverse=True)[:n]
    return {f: round(w, 3) for f, w in kept}


def purge(store: StateStore, story_id: str) -> None:
    """Forget a closed story entirely (its record, its articles, its aliases)."""
    record = store.get("s:" + story_id)
    if record is None:
        return
    for article_id in record["article_ids"]:
        store.delete("a:" + article_id)
    for alias in record["merged_from"]:
        store.delete("al:" + alias)
    summary = store.get("v:" + story_id)
    if summary and summary.get("closed"):
        for feature in archive_names(summary):
            store.remove("ax:" + feature, story_id)
    store.delete("s:" + story_id)
    store.delete("v:" + story_id)


def last_seen(store: StateStore, story_id: str) -> float:
    """When the story last received an article (-inf if it no longer exists)."""
    vector = store.get("v:" + story_id)
    return float("-inf") if vector is None else float(vector["la"])


def sweep(
    store: StateStore, meta: dict[str, Any], clock: float, window: float, keep: float
) -> None:
    """Close stories idle for ``window`` seconds and purge those idle for ``keep`` seconds."""
    buckets: list[int] = store.get("qb") or []
    close_upto, purge_upto = bucket(clock - window) - 1, bucket(clock - keep) - 1
    changed = False
    for b in list(buckets):
        if b > close_upto:
            break
        purging = b <= purge_upto
        if meta["closed"] is not None and b <= meta["closed"] and not purging:
            continue
        for story_id in store.get(f"q:{b}") or []:
            if last_seen(store, story_id) >= (b + 1) * HOUR:
                continue  # active again since: queued in a later bucket
            close(store, story_id)
            if purging:
                purge(store, story_id)
        if purging:
            store.delete(f"q:{b}")
            buckets.remove(b)
            changed = True
    meta["closed"] = max(meta["closed"] or close_upto, close_upto)
    if changed:
        store.put("qb", buckets)
