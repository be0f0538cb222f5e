"""``newswire explain ID``: why an article is where it is.

    its story   joined or started, the score against the threshold, the evidence both sides
                share (who, where, when, how many) and the conflicts found
    its topics  each topic's query and the words that matched, with where they are
"""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.cli.common import console, dump, fail, open_store, resolve_id, settings
from pipeline.models import StoryEvidence
from pipeline.web.format import evidence_values

BackendOpt = Annotated[str | None, typer.Option(
    "--backend", help="embedded (SQLite) or kafka (Kafka + Elasticsearch)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
def _listed(evidence: dict[str, list[str]]) -> str:
    return "; ".join(f"{kind} {evidence_values(values)}" for kind, values in evidence.items()
                     if values)


def story_lines(story_id: str, evidence: StoryEvidence | None) -> list[str]:
    """How the story decision reads for people (none for articles decided before it was
    recorded)."""
    if evidence is None:
        return []
    if evidence.joined:
        head = (f"joined story {evidence.story}: score {evidence.score:.2f} "
                f"(needs {evidence.threshold:.2f})")
    elif evidence.story:
        head = (f"started story {story_id}: closest was {evidence.story} at "
                f"{evidence.score:.2f}, below {evidence.threshold:.2f}")
    else:
        head = f"started story {story_id}: no open story was close"
    lines = [head]
    if evidence.shared:
        lines.append(f"  shared: {_listed(evidence.shared)}")
    if evidence.conflicts:
        lines.append(f"  conflicts (this article's): {_listed(evidence.conflicts)}")
    return lines


def explain(
    article_id: Annotated[str, typer.Argument(help="An article id, or its first characters "
                                              "if no other id starts so (see search).")],
    as_json: JsonOpt = False,
    backend: BackendOpt = None,
) -> None:
    """Why an article joined its story (score, shared evidence, conflicts) and got each
    topic (the query, the words that matched and where).

    Example: newswire explain 4f0c2a (a unique prefix of the id is enough)"""
    store = open_store(settings(backend, alerts=False))
    article = store.article(article_id) or store.article(resolve_id(
        store, "articles", article_id, "ids are in `newswire search` and `newswire export`"))
    if article is None:  # removed between the two look-ups
        raise fail(f"no article with id {article_id!r}", code=1)
    if as_json:
        evidence = article.story_evidence
        dump({"id": article.id, "title": article.title, "story_id": article.story_id,
              "topics": [m.model_dump() for m in article.topic_matches],
              "story_evidence": evidence.model_dump() if evidence else None})
        return
    console.print(f"[bold]{article.title}[/bold]  ({article.source}, story {article.story_id})",
                  highlight=False)
    for line in story_lines(article.story_id, article.story_evidence):
        console.print(line, highlight=False, markup=False)
    if not article.topic_matches:
        console.print("no topic matched")
    for match in article.topic_matches:
        console.print(f"\n[bold cyan]{match.topic}[/bold cyan]  query: {match.query}",
                      highlight=False, markup=True)
        for word, start, end in match.evidence:
            where, _, surface = word.rpartition(":") if word.startswith(("title:", "author:")) \
                else ("text", "", word)
            context = article.text[max(0, start - 50):end + 50].replace("\n", " ") \
                if where == "text" else (article.title if where == "title" else article.author)
            console.print(f"  {surface!r} at {where}[{start}:{end}]  …{context}…",
                          highlight=False, markup=False)
