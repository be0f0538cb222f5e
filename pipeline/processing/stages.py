"""The pipeline's pure stages composed in order; both runtimes call exactly this.

    RawArticle ─clean─▶ Article ─tag─▶ topics ─cluster─▶ EnrichedArticle + Story
                                                         ─alerts─▶ AlertEvent*

No network, no disk: cluster state and fired-alert keys live in the mappings the runtime
passes in (SQLite-backed mappings in the embedded runtime, Faust tables in the Kafka runtime).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pipeline.models import (
    AlertEvent,
    AlertRule,
    Article,
    EnrichedArticle,
    RawArticle,
    Story,
    TopicMatch,
)
from pipeline.processing.alerts import AlertMatcher
from pipeline.processing.clean.cleaner import Cleaner
from pipeline.processing.cluster.clusterer import StoryClusterer, prepare_features
from pipeline.processing.cluster.features import Features
from pipeline.processing.tag import Tagger, TopicRule, document_of
from pipeline.query.analysis import fold
from pipeline.query.matcher import Document


@dataclass
class Analysed:
    """A cleaned article with its analysis and topics: the stateless half of enrichment,
    which the embedded runtime computes in its process pool."""

    article: Article
    document: Document
    matches: list[TopicMatch]
    junk_candidates: list[str] = field(default_factory=list)  # for SourceJunk.observe
    signature: str = ""  # the article body's key (copies share it)
    cluster_features: Features | None = None  # precomputed for the clusterer


@dataclass
class Enriched:
    """What enriching one article produces."""

    article: EnrichedArticle
    story: Story
    alerts: list[AlertEvent] = field(default_factory=list)
    merged_story_ids: list[str] = field(default_factory=list)
    document: Document | None = None  # the analysed article, reusable by the index


class Stages:
    """clean → tag → cluster → alerts, as one object with no I/O of its own."""

    def __init__(
        self,
        topics: list[TopicRule],
        rules: list[AlertRule],
        cluster_state: MutableMapping[str, Any],
        alert_state: MutableMapping[str, Any] | None = None,
        story_window: timedelta = timedelta(hours=72),
    ) -> None:
        self.cleaner = Cleaner()
        self.tagger = Tagger(topics)
        self.clusterer = StoryClusterer(cluster_state, window=story_window)
        self.alerts = AlertMatcher(rules, alert_state)

    def clean(self, raw: RawArticle, learned: frozenset[str] = frozenset()) -> Article:
        """Raises PoisonInputError subclasses for input that cannot become an article.

        ``learned``: fingerprints of lines learned as junk for the raw's source."""
        return self.cleaner.clean(raw, learned)

    def prepare(self, raw: RawArticle, learned: frozenset[str] = frozenset()) -> Analysed:
        """clean + analyse, keeping the lines the runtime feeds back to ``SourceJunk``."""
        explained = self.cleaner.run(raw, learned)
        assert explained.article is not None  # run() raises rather than refuse quietly
        analysed = self.analyse(explained.article)
        analysed.junk_candidates = explained.candidates
        analysed.signature = explained.signature
        return analysed

    def analyse(self, article: Article) -> Analysed:
        """Stateless: analysis chain and topics."""
        doc = document_of(article)
        features = prepare_features(article)
        features.words = []  # only their MinHash signature is needed now (less to pickle)
        return Analysed(article, doc, self.tagger.tag(article, doc), cluster_features=features)

    def enrich(self, article: Article) -> Enriched:
        return self.assign(self.analyse(article))

    def assign(self, analysed: Analysed) -> Enriched:
        """Stateful: story assignment and alerts (one writer: one partition / process)."""
        article, doc, matches = analysed.article, analysed.document, analysed.matches
        topics = [m.topic for m in matches]
        assignment = self.clusterer.assign(article, topics, analysed.cluster_features)
        enriched = EnrichedArticle(
            **article.model_dump(),
            topics=topics,
            topic_matches=matches,
            story_id=assignment.story.id,
            story_is_new=assignment.is_new,
            near_duplicate_of=assignment.near_duplicate_of,
            story_evidence=assignment.evidence(self.clusterer.settings.model.threshold),
        )
        doc.keywords["topic"] = {fold(t) for t in topics}
        doc.keywords["story"] = {fold(assignment.story.id)}
        events = self.alerts.match(enriched, assignment.story, doc)
        return Enriched(enriched, assignment.story, events, assignment.merged, doc)
