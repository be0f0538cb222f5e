"""Topic tagging: each topic is a named query; a tag carries the evidence for why it fired."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.errors import QuerySyntaxError
from pipeline.models import Article, TopicMatch
from pipeline.query.matcher import Document
from pipeline.query.monitor import QueryMonitor
from pipeline.query.parser import compile_query


class TopicRule(BaseModel):
    """A topic from config/topics.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    query: str
    description: str = ""

    @field_validator("query")
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            compile_query(value)
        except QuerySyntaxError as exc:
            raise ValueError(str(exc)) from exc
        return value


def document_of(article: Article, topics: list[str] | None = None, story: str | None = None,
                analysed: Mapping[str, list[str]] | None = None) -> Document:
    """What queries see of ``article`` (``analysed``: its fields' terms, if known already)."""
    return Document.build(title=article.title, text=article.text, author=article.author,
                          source=article.source, lang=article.lang, topics=topics,
                          story=story, published=article.published, analysed=analysed)


class Tagger:
    """Evaluates every topic query against an article."""

    def __init__(self, topics: list[TopicRule] | tuple[TopicRule, ...]) -> None:
        self.topics = list(topics)
        self.monitor = QueryMonitor()
        for topic in self.topics:
            self.monitor.add(topic.name, topic.query)

    def tag(self, article: Article, doc: Document | None = None) -> list[TopicMatch]:
        doc = doc or document_of(article)
        out = []
        for standing, result in self.monitor.match(doc):
            evidence = [(word if f == "text" else f"{f}:{word}", start, end)
                        for f, word, start, end in result.evidence]
            out.append(TopicMatch(topic=standing.name, query=standing.query, evidence=evidence))
        return out
