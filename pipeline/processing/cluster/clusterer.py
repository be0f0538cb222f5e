"""Online story clustering: which story does this article belong to?

    Article ──features──▶ near-copy check (MinHash-LSH buckets of open articles)
                       └─▶ candidate stories (postings of its salient features, open stories only)
                             └─▶ score each: TF-IDF cosine of body and title with the story's
                                 centroid (names, numbers, ages, days are features too), × name
                                 and age agreement, × day agreement, × time distance ──▶ join
                                 best ≥ threshold, merge others ≥ merge threshold, or start one

IDF comes from the stream, so sentences every outlet repeats (templates, boilerplate) fade.
Two stories of the same kind (two earthquakes) share vocabulary but not names: when both
sides name places or people and share few of them, the score is cut (``_name_factor``); so
when both headlines give ages ("girl, 5" and "2-year-old") and neither side mentions the
other's. Reports of one event name the day it happened ("Sunday", "Dec. 11"): when both sides
name days and none in common the score is cut (``day_penalty``); when they share one, the
time discount does not apply (a follow-up days later about the same day's event).
Merging two existing stories needs more than one article close to both: the two stories'
centroids must be alike and agree on names as well, so stories do not chain.

Cost per article depends on the open window (capped postings, capped candidates), never
on history. All state is in the mapping given to the constructor (see cluster_state.py);
a new clusterer over the same mapping continues exactly where the old one stopped.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import timedelta
from operator import itemgetter
from typing import Any

from pipeline.models import Article, Story
from pipeline.processing.cluster import minhash, stories
from pipeline.processing.cluster.features import Features, extract
from pipeline.processing.cluster.similarity import (
    TIME_GRACE_DAYS,
    TIME_HALF_LIFE_DAYS,
    TITLE_WEIGHT,
    Vector,
    combined,
    day_agreement,
    dot_over_norm,
    idfs,
    names_conflict,
    normalized,
    time_factor,
    weigh,
)
from pipeline.processing.cluster.state import StateStore

logger = logging.getLogger(__name__)
IDENTITIES = ("e:", "a:")  # headline features that must not conflict: names, ages



def prepare_features(article: Article) -> Features:
    """The stateless part of assignment: features and the MinHash signature with its bands."""
    features = extract(article)
    features.signature = minhash.signature(features.words)
    features.bands = minhash.band_keys(features.signature)
    return features

@dataclass
class Assignment:
    """Where an article went: its (updated) story, and how it got there."""

    story: Story
    is_new: bool
    near_duplicate_of: str | None = None
    merged: list[str] = field(default_factory=list)  # story ids merged into ``story`` now


@dataclass(frozen=True)
class ClusterSettings:
    """The knobs; defaults are what the evaluation harness measured."""

    threshold: float = 0.13  # join the best story at or above this score
    merge_threshold: float = 0.45  # an article this close to two stories may merge them...
    story_merge: float = 0.3  # ...if the two stories are this alike themselves
    near_copy: float = 0.8  # estimated shingle Jaccard for a near-copy
    candidates: int = 10  # stories scored per article
    salient: int = 32  # features an article is looked up and posted under
    name_penalty: float = 0.1  # score factor when the two sides' headline names conflict
    day_penalty: float = 0.5  # score factor when the two sides name different days
    title_weight: float = TITLE_WEIGHT  # share of the title cosine in the score
    grace_days: float = TIME_GRACE_DAYS  # no time discount this close to a story's span
    half_life_days: float = TIME_HALF_LIFE_DAYS  # the discount halves every this many days


class StoryClusterer:
    """Assigns each article to a story, online, with all state in ``state``."""

    def __init__(
        self,
        state: MutableMapping[str, Any],
        window: timedelta = timedelta(days=3),
        retention: timedelta = timedelta(days=30),
        settings: ClusterSettings | None = None,
    ) -> None:
        self._store = StateStore(state)
        self.window = window
        self.retention = max(retention, window)
        self.settings = settings or ClusterSettings()

    def assign(self, article: Article, topics: list[str],
               features: Features | None = None) -> Assignment:
        """Join the best open story or start one. ``features`` may be precomputed
        (``prepare_features``, stateless) so that runtimes can compute them in parallel."""
        known = self._store.get("a:" + article.id)
        if known is not None:  # replay: nothing changes
            return Assignment(self._story(self._store.resolve(known["s"])), False, known["d"])
        arrival = article.fetched.timestamp()
        event = self._event_time(article)
        meta = self._advance(arrival)
        features = features or prepare_features(article)
        meta["n"] += 1
        n = meta["n"]
        df = self._store.count_document(features.vector)
        self._store.put("meta", meta)
        idf_of = idfs(features.vector, n, df)
        vector = normalized(weigh(features.vector, idf_of))
        title = normalized(weigh(features.title, idf_of))
        sig, bands = features.signature, features.bands
        near = self._near_copy(sig, bands)
        ranked = sorted(sorted(vector.items()), key=itemgetter(1), reverse=True)  # ties: by name
        salient = [f for f, _ in ranked[: self.settings.salient]]
        title_names, days = features.title_names, features.days
        scores = self._scores(
            vector, title, (title_names, days), salient, event, near[1] if near else None
        )
        chosen, merged = self._decide(scores)
        near_id = near[0] if near and near[1] == chosen else None
        entry: dict[str, Any] = {
            "id": article.id,
            "title": article.title,
            "source": article.source,
            "topics": topics,
            "near": near_id,
            "vector": vector,
            "title_vector": title,
            "title_names": title_names,
            "days": days,
            "salient": salient,
            "sig": sig,
            "bands": bands,
            "centrality": scores.get(chosen, 0.0) if chosen else 0.0,
            "event": event,
            "arrival": arrival,
            "seen": article.timestamp.timestamp() if event is None else event,
        }
        is_new = chosen is None
        if chosen is None:
            chosen = self._new_id(article.id)
            stories.new_story(self._store, chosen, entry)
        for gone in merged:
            stories.merge(self._store, chosen, gone)
        stories.add_article(self._store, chosen, entry)
        return Assignment(self._story(chosen), is_new, near_id, merged)

    # --- steps ------------------------------------------------------------------------

    @staticmethod
    def _event_time(article: Article) -> float | None:
        """Published time (never more than a day after fetching: bad dates); None if unknown."""
        if article.published is None:
            return None
        return min(article.published, article.fetched + timedelta(days=1)).timestamp()

    def _advance(self, ts: float) -> dict[str, Any]:
        """Move the stream clock (arrival time) to ``ts`` if later; close / purge what left."""
        meta = self._store.meta()
        if meta["clock"] is None or ts > meta["clock"]:
            meta["clock"] = ts
            window = self.window.total_seconds()
            if meta["closed"] is None or stories.bucket(ts - window) - 1 > meta["closed"]:
                stories.sweep(self._store, meta, ts, window, self.retention.total_seconds())
            day = int(ts // 86400)
            if meta.get("pruned") is None:
                meta["pruned"] = day
            elif day > meta["pruned"]:
                meta["pruned"] = day
                self._store.prune_df(meta["n"])
        return meta

    def _near_copy(self, sig: list[int], bands: list[str]) -> tuple[str, str] | None:
        """(original article id, its story id) if an open article is a near-copy of this one."""
        best: tuple[float, str] | None = None
        seen: set[str] = set()
        for key in bands:
            for other in self._store.get("b:" + key) or []:
                if other in seen:
                    continue
                seen.add(other)
                entry = self._store.get("a:" + other)
                similarity = minhash.similarity(sig, entry.get("g") or [])
                if similarity >= self.settings.near_copy and (
                    best is None or (similarity, other) > best
                ):
                    best = (similarity, other)
        if best is None:
            return None
        entry = self._store.get("a:" + best[1])
        return entry["d"] or best[1], self._store.resolve(entry["s"])

    def _candidates(self, vector: dict[str, float], salient: list[str]) -> list[str]:
        """Open stories sharing the most salient weight with the article."""
        votes: dict[str, float] = {}
        for feature in salient:
            for story_id in self._store.get("ix:" + feature) or []:
                votes[story_id] = votes.get(story_id, 0.0) + vector[feature]
        ranked = sorted(votes, key=lambda s: (-votes[s], s))
        return ranked[: self.settings.candidates]

    def _scores(
        self,
        vector: dict[str, float],
        title: dict[str, float],
        marks: tuple[list[str], list[str]],
        salient: list[str],
        event: float | None,
        forced: str | None,
    ) -> dict[str, float]:
        cfg = self.settings
        scores: dict[str, float] = {}
        candidates = self._candidates(vector, salient)
        if forced is not None and forced not in candidates:
            candidates.append(forced)
        for story_id in candidates:
            state = self._store.get("v:" + story_id)
            body = dot_over_norm(vector, state["c"], state["cn"])
            headline = dot_over_norm(title, state["h"], state["hn"]) if title else 0.0
            days = day_agreement(marks[1], state.get("dn") or [])
            age = 1.0  # no discount when both name the same day: the event's, not the news'
            if days <= 0 and event is not None and state["f"] is not None:
                age = time_factor(event, state["f"], state["l"], cfg.grace_days, cfg.half_life_days)
            names = self._name_factor(marks[0], vector, state["tn"], state["c"])
            score = combined(body, headline, cfg.title_weight) * age * names
            scores[story_id] = score * cfg.day_penalty if days < 0 else score
        if forced is not None:
            scores[forced] = max(scores[forced], 1.0)
        return scores

    def _name_factor(self, names_a: list[str], a: Vector, names_b: list[str], b: Vector) -> float:
        """``name_penalty`` if the two sides' headline names, or headline ages, conflict
        (``names_conflict``): two events of one kind in two places, or to two people."""
        for kind in IDENTITIES:
            kind_a = [f for f in names_a if f.startswith(kind)]
            kind_b = [f for f in names_b if f.startswith(kind)]
            if names_conflict(kind_a, a, kind_b, b):
                return self.settings.name_penalty
        return 1.0

    def _stories_alike(self, a: str, b: str) -> float:
        """How alike two open stories are: centroid cosines (body, titles) × name factor."""
        va, vb = self._store.get("v:" + a), self._store.get("v:" + b)
        body = dot_over_norm(va["c"], vb["c"], va["cn"] * vb["cn"] or 1.0)
        titles = dot_over_norm(va["h"], vb["h"], va["hn"] * vb["hn"] or 1.0)
        names = self._name_factor(va["tn"], va["c"], vb["tn"], vb["c"])
        return combined(body, titles, self.settings.title_weight) * names

    def _decide(self, scores: dict[str, float]) -> tuple[str | None, list[str]]:
        """(story to join or None for a new one, stories to merge into it)."""
        cfg = self.settings
        ranked = sorted(scores, key=lambda s: (-scores[s], s))
        if not ranked or scores[ranked[0]] < cfg.threshold:
            return None, []
        best = ranked[0]
        group = [best] + [
            s
            for s in ranked[1:]
            if scores[s] >= cfg.merge_threshold
            and self._stories_alike(best, s) >= cfg.story_merge
        ]
        if len(group) < 2:
            return best, []
        oldest = min(group, key=lambda s: (self._store.get("v:" + s)["fa"], s))
        return oldest, [s for s in group if s != oldest]

    def _new_id(self, article_id: str) -> str:
        story_id = "s-" + article_id
        suffix = 1
        while self._store.get("s:" + story_id) is not None or self._store.get("al:" + story_id):
            suffix += 1
            story_id = f"s-{article_id}-{suffix}"
        return story_id

    def _story(self, story_id: str) -> Story:
        return Story.model_validate(self._store.get("s:" + story_id))
