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
other's. Reports of one event name the day it happened ("Sunday", "Dec. 11"): a day in
common is evidence for, none in common against; and against an archived story the score is
cut (``day_penalty``) unless the report restates a specific of the event (the victims' ages,
the magnitude): a charge weeks later names the day of the charge, a new event in
the same town names only its own.
Merging two existing stories needs more than one article close to both: the two stories'
centroids must be alike and agree on names as well, so stories do not chain.

Cost per article depends on the open window (capped postings, capped candidates), never
on history. All state is in the mapping given to the constructor (see cluster_state.py);
a new clusterer over the same mapping continues exactly where the old one stopped.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from datetime import timedelta
from operator import itemgetter
from typing import Any

from pipeline.models import Article, Story, StoryEvidence
from pipeline.processing.cluster import minhash, stories
from pipeline.processing.cluster.decision import (
    Match,
    Model,
    Side,
    compare_side,
    gap_days,
    side,
)
from pipeline.processing.cluster.evidence import extract_evidence
from pipeline.processing.cluster.features import (
    Features,
    _lead,
    _published_day,
    extract_with_days,
    headline,
)
from pipeline.processing.cluster.similarity import (
    Vector,
    combined,
    dot_over_norm,
    idfs,
    names_conflict,
    normalized,
    weigh,
)
from pipeline.processing.cluster.state import StateStore

logger = logging.getLogger(__name__)
IDENTITIES = ("e:", "a:")  # headline features that must not conflict: names, ages
NAME = "e:"
CONFLICTS = ("where_conflict", "day_conflict", "count_conflict", "measure_conflict",
             "magnitude_conflict", "age_conflict")  # kinds of event evidence that can disagree
SPECIFICS = ("age_agree", "magnitude_agree")  # what a late report restates (not counts: "2")



def prepare_features(article: Article) -> Features:
    """The stateless part of assignment: features and the MinHash signature with its bands."""
    features, days = extract_with_days(article)
    features.evidence = extract_evidence(
        headline(article), _lead(article.text), _published_day(article), days
    )
    features.signature = minhash.signature(features.words)
    features.bands = minhash.band_keys(features.signature)
    return features

def _heaviest(vector: Vector, n: int) -> list[str]:
    """The ``n`` heaviest features, ties by name. Only those at least as heavy as the
    ``n``-th weight are sorted (by name, then stably by weight): the same list as sorting
    all of them."""
    items: Iterable[tuple[str, float]] = vector.items()
    if 0 < n < len(vector):
        floor = heapq.nlargest(n, vector.values())[-1]
        items = [(f, w) for f, w in items if w >= floor]
    ranked = sorted(sorted(items), key=itemgetter(1), reverse=True)
    return [f for f, _ in ranked[:n]]


@dataclass(frozen=True, slots=True)
class _Side:
    """The article as compared with stories, split by kind once for all candidates."""

    vector: Vector
    title: Vector
    names: list[str]  # headline names and ages
    evidence: dict[str, list[str]]
    event: float | None  # published time, None if undated
    arrival: float
    prepared: Side  # ``evidence`` as ``compare_side`` takes it
    identities: tuple[list[str], ...]  # ``names`` by kind (``IDENTITIES``)
    entities: list[str]  # the ``e:`` names

    @classmethod
    def of(cls, vector: Vector, title: Vector, names: list[str],
           evidence: dict[str, list[str]], event: float | None, arrival: float) -> _Side:
        identities = tuple([f for f in names if f.startswith(kind)] for kind in IDENTITIES)
        return cls(vector, title, names, evidence, event, arrival, side(evidence), identities,
                   identities[IDENTITIES.index(NAME)])


@dataclass
class Assignment:
    """Where an article went: its (updated) story, and how it got there."""

    story: Story
    is_new: bool
    near_duplicate_of: str | None = None
    merged: list[str] = field(default_factory=list)  # story ids merged into ``story`` now
    match: Match | None = None  # the evidence for the story joined (None: a new story)
    candidates: list[Match] = field(default_factory=list)  # every story compared, best first

    def evidence(self, threshold: float) -> StoryEvidence | None:
        """The decision as users see it: the story joined, or for a new story the closest
        one compared; None for a replayed article (decided before)."""
        best = self.match or (self.candidates[0] if self.candidates else None)
        if best is None:
            return None if not self.is_new else StoryEvidence(joined=False,
                                                              threshold=threshold)
        return StoryEvidence(joined=not self.is_new, story=best.story,
                             score=round(best.score, 4), threshold=threshold,
                             shared=best.shared, conflicts=best.conflicts)


@dataclass(frozen=True)
class ClusterSettings:
    """The knobs; the decision's weights and thresholds come from ``model.json``."""

    model: Model = field(default_factory=Model.load)
    name_penalty: float = 0.1  # score factor when the headlines' names or ages conflict
    day_penalty: float = 0.25  # score factor when an archived story names another day and
    # no specific of the event (``SPECIFICS``) agrees
    agreeing_threshold: float = 0.25  # join threshold when no evidence conflicts
    conflict_penalty: float = 0.5  # score factor per conflicting kind of evidence beyond one
    story_merge: float = 0.3  # two stories an article merges must be this alike themselves
    near_copy: float = 0.8  # estimated shingle Jaccard for a near-copy
    candidates: int = 10  # open stories scored per article
    archived: int = 5  # closed stories (still in the archive) scored per article
    salient: int = 32  # features an article is looked up and posted under
    title_weight: float = 0.3  # share of the title cosine in the stories' likeness

    def score(self, x: dict[str, float]) -> float:
        """The model's probability for pair features ``x``, cut by the conflict rules the
        fitted weights alone do not enforce (see the penalties above)."""
        score = self.model.probability(x)
        if x.get("headline_conflict"):  # headlines name other places, people or ages
            score *= self.name_penalty
        if x.get("day_conflict") and x.get("archived") and not any(
                x.get(kind) for kind in SPECIFICS):  # an old story, another day, nothing else
            score *= self.day_penalty
        conflicting = sum(1 for kind in CONFLICTS if x.get(kind))
        if conflicting > 1:  # one conflict may be a revised figure; several, another event
            score *= self.conflict_penalty ** (conflicting - 1)
        return score


class StoryClusterer:
    """Assigns each article to a story, online, with all state in ``state``."""

    def __init__(
        self,
        state: MutableMapping[str, Any],
        window: timedelta = timedelta(days=3),
        retention: timedelta = timedelta(days=365),
        settings: ClusterSettings | None = None,
        max_open_age: timedelta = timedelta(days=14),
        undated_archive: timedelta = timedelta(days=180),
    ) -> None:
        self._store = StateStore(state)
        self._window = window.total_seconds()
        self.retention = max(retention, window)  # closed stories stay in the archive so long
        self.settings = settings or ClusterSettings()
        self.max_open_age = max_open_age.total_seconds()  # older: judged as archived
        self.undated_archive = undated_archive.total_seconds()  # closed stories an undated
        # article is compared with: those active this recently (a dated one: the whole archive)

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
        salient = _heaviest(vector, self.settings.salient)
        title_names, days = features.title_names, features.days
        side = _Side.of(vector, title, title_names, features.evidence, event, arrival)
        matches = self._scores(side, salient, near[1] if near else None)
        chosen, merged = self._decide(matches)
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
            "evidence": features.evidence,
            "salient": salient,
            "sig": sig,
            "bands": bands,
            "centrality": matches[chosen].score if chosen else 0.0,
            "event": event,
            "arrival": arrival,
            "seen": article.timestamp.timestamp() if event is None else event,
        }
        is_new = chosen is None
        if chosen is None:
            chosen = self._new_id(article.id)
            stories.new_story(self._store, chosen, entry)
        elif self._store.get("v:" + chosen).get("closed"):
            stories.reopen(self._store, chosen)
        for gone in merged:
            stories.merge(self._store, chosen, gone)
        stories.add_article(self._store, chosen, entry)
        compared = sorted(matches.values(), key=lambda m: (-m.score, m.story))
        match = matches.get(chosen) if not is_new else None
        return Assignment(self._story(chosen), is_new, near_id, merged, match, compared)

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
            window = self._window
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

    def _scores(self, side: _Side, salient: list[str], forced: str | None) -> dict[str, Match]:
        """The evidence and probability of each candidate story (``forced``: a near-copy's)."""
        candidates = self._candidates(side.vector, salient)
        if forced is not None and forced not in candidates:
            candidates.append(forced)
        archived = self._archived(side)
        candidates += archived
        matches = {}
        for story_id in candidates:
            state = self._store.get("v:" + story_id)
            if side.event is None and story_id in archived and (
                    side.arrival - state["la"] > self.undated_archive):
                continue  # an undated report may be about anything since: recent ones only
            match = self._match(side, story_id, state)
            if story_id == forced:
                match.features["near"] = 1.0
                match.score = max(match.score, self.settings.model.probability(match.features))
            matches[story_id] = match
        return matches

    def _archived(self, side: _Side) -> list[str]:
        """Closed stories still in the archive that share the most names with the article."""
        votes: dict[str, int] = {}
        names = [f for f in side.names if f.startswith("e:")]
        names += [f for k in ("who", "where") for f in side.evidence.get(k, [])]
        for name in set(names):
            for story_id in self._store.get("ax:" + name) or []:
                votes[story_id] = votes.get(story_id, 0) + 1
        ranked = sorted(votes, key=lambda s: (-votes[s], s))
        return ranked[: self.settings.archived]

    def _match(self, side: _Side, story_id: str, state: dict[str, Any]) -> Match:
        """Compare one article with one story: cosines, evidence, time (``decision.py``)."""
        centroid, story_names = state["c"], state["tn"]
        x, shared, conflicts = compare_side(side.prepared, side.vector, state.get("ev") or {},
                                            centroid)
        x["body"] = dot_over_norm(side.vector, centroid, state["cn"])
        x["title"] = dot_over_norm(side.title, state["h"], state["hn"]) if side.title else 0.0
        if story_names and self._headline_conflict(side, story_names, centroid):
            x["headline_conflict"] = 1.0
        names = side.entities
        if names and story_names:  # headline names the story never mentions
            x["title_novel"] = sum(1 for f in names if f not in centroid
                                   and f not in story_names) / len(names)
        x["gap"] = math.log1p(gap_days(side.event, state["f"], state["l"]))
        closed = state.get("closed") and side.arrival > state["la"] + self._window
        if closed or side.arrival - state["fa"] > self.max_open_age:
            x["archived"] = 1.0  # closed before this report's time, or open too long
        # (a report that arrives late, after the story closed, is judged as if it were open:
        # partitions of a backfill reach the story agent out of order)
        score = self.settings.score(x)
        return Match(story_id, score, shared, conflicts, x)

    @staticmethod
    def _headline_conflict(side: _Side, names_b: list[str], b: Vector) -> bool:
        """``_names_conflict`` of the article's headline names with a story's."""
        for kind, kind_a in zip(IDENTITIES, side.identities, strict=True):
            if kind_a and names_conflict(kind_a, side.vector,
                                         [f for f in names_b if f.startswith(kind)], b):
                return True
        return False

    @staticmethod
    def _names_conflict(names_a: list[str], a: Vector, names_b: list[str], b: Vector) -> bool:
        """Whether the two sides' headline names, or headline ages, conflict
        (``names_conflict``): two events of one kind in two places, or to two people."""
        for kind in IDENTITIES:
            kind_a = [f for f in names_a if f.startswith(kind)]
            kind_b = [f for f in names_b if f.startswith(kind)]
            if names_conflict(kind_a, a, kind_b, b):
                return True
        return False

    def _stories_alike(self, a: str, b: str) -> float:
        """How alike two open stories are: centroid cosines (body, titles), 0 if their
        headline names conflict."""
        va, vb = self._store.get("v:" + a), self._store.get("v:" + b)
        if self._names_conflict(va["tn"], va["c"], vb["tn"], vb["c"]):
            return 0.0
        body = dot_over_norm(va["c"], vb["c"], va["cn"] * vb["cn"] or 1.0)
        titles = dot_over_norm(va["h"], vb["h"], va["hn"] * vb["hn"] or 1.0)
        return combined(body, titles, self.settings.title_weight)

    def _decide(self, matches: dict[str, Match]) -> tuple[str | None, list[str]]:
        """(story to join or None for a new one, stories to merge into it)."""
        model = self.settings.model
        ranked = sorted(matches, key=lambda s: (-matches[s].score, s))
        if not ranked or matches[ranked[0]].score < self._needed(matches[ranked[0]]):
            return None, []
        best = ranked[0]
        group = [best] + [
            s
            for s in ranked[1:]
            if matches[s].score >= model.merge
            and not matches[s].features.get("archived")
            and not matches[best].features.get("archived")
            and self._stories_alike(best, s) >= self.settings.story_merge
        ]
        if len(group) < 2:
            return best, []
        oldest = min(group, key=lambda s: (self._store.get("v:" + s)["fa"], s))
        return oldest, [s for s in group if s != oldest]

    def _needed(self, match: Match) -> float:
        """The score a story needs to be joined: lower when no evidence conflicts at all
        (every kind that both sides state agrees), so a rewrite that shares little wording
        still joins its event, while any conflict keeps the model's threshold."""
        if any(match.features.get(kind) for kind in (*CONFLICTS, "who_conflict",
                                                      "weekday_conflict", "year_conflict",
                                                      "headline_conflict")):
            return self.settings.model.threshold
        return min(self.settings.model.threshold, self.settings.agreeing_threshold)

    def _new_id(self, article_id: str) -> str:
        story_id = "s-" + article_id
        suffix = 1
        while self._store.get("s:" + story_id) is not None or self._store.get("al:" + story_id):
            suffix += 1
            story_id = f"s-{article_id}-{suffix}"
        return story_id

    def _story(self, story_id: str) -> Story:
        return Story.model_validate(self._store.get("s:" + story_id))
