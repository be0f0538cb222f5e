"""Learned per-source junk: recurring lines of one source are learned, then dropped."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pipeline.config.settings import load_settings
from pipeline.models import EnrichedArticle, RawArticle
from pipeline.processing.clean.cleaner import Cleaner, Explanation
from pipeline.processing.clean.source_junk import SourceJunk, fingerprint, junk_source
from pipeline.runtime.embedded import EmbeddedRuntime

REPO = Path(__file__).parents[4]
BOILERPLATE = "Get the Valley Courier app for the latest local news alerts"
TWICE = "Officials did not say when the work would finish"
TOWNS = ["Ashford", "Brayton", "Colwick", "Denholm", "Elstow", "Fernley", "Garside", "Hexton",
         "Ilkley", "Jarrow"]


def article(i: int, *, extra: str | None = None, host: str = "valley.example") -> RawArticle:
    town = TOWNS[i]
    lines = [
        f"The {town} bridge reopened on day {i} after weeks of repairs, the council said on "
        "Friday, ending long detours for commuters and freight.",
        BOILERPLATE,
        f"Engineers in {town} replaced {i + 3} bearings and resurfaced the deck, and traffic "
        "lights at both ends will be removed by the end of the month.",
    ]
    if extra:
        lines.append(extra)
    return RawArticle(url=f"https://www.{host}/news/{town.lower()}-bridge",
                      text="\n\n".join(lines))


def run(junk: SourceJunk, raw: RawArticle) -> Explanation:
    """What the runtime does per article: clean with the learned set, then observe."""
    explained = Cleaner().run(raw, junk.known(junk_source(raw)))
    junk.observe(junk_source(raw), explained.candidates, explained.signature)
    return explained


def rule_of(explained: Explanation, line: str) -> str:
    return next(v.rule for v in explained.verdicts if v.line == line)


def test_recurring_line_is_learned_then_dropped_for_that_source_only() -> None:
    state: dict[str, Any] = {}
    junk = SourceJunk(state)
    seen = [run(junk, article(i, extra=TWICE if i in (1, 2) else None)) for i in range(8)]
    assert all(rule_of(e, BOILERPLATE) == "keep" for e in seen[:5])  # not yet learned
    assert fingerprint(BOILERPLATE) in junk.known("valley.example")
    assert fingerprint(TWICE) not in junk.known("valley.example")

    later = run(junk, article(8, extra=TWICE))
    assert rule_of(later, BOILERPLATE) == "learned-source-junk"
    assert later.article is not None and BOILERPLATE not in later.article.text
    assert rule_of(later, TWICE) == "keep" and TWICE in later.article.text

    elsewhere = Cleaner().run(article(9, host="other.example"),
                              junk.known(junk_source(article(9, host="other.example"))))
    assert elsewhere.article is not None and BOILERPLATE in elsewhere.article.text
    assert set(state) == {"valley.example"}  # plain JSON-able state, one entry per source


def test_copies_of_one_article_count_once() -> None:
    junk = SourceJunk({})
    for _ in range(10):
        run(junk, article(0))
    assert junk.known("valley.example") == frozenset()


def test_learned_junk_never_guts_an_article() -> None:
    raw = RawArticle(url="https://valley.example/x", text=f"Road closed.\n\n{BOILERPLATE}")
    explained = Cleaner().run(raw, frozenset({fingerprint(BOILERPLATE)}))
    assert explained.article is not None and BOILERPLATE in explained.article.text


def test_state_stays_bounded() -> None:
    junk = SourceJunk({}, max_lines=50, window=20)
    for i in range(100):
        junk.observe("s", [f"line-{i}-{j}" for j in range(10)] + ["always"], signature=str(i))
    entry = junk.state["s"]
    assert len(entry["lines"]) <= 50 and entry["n"] < 20
    assert junk.known("s") == frozenset({"always"})


def test_embedded_runtime_learns_and_commits(tmp_path: Path) -> None:
    settings = load_settings(REPO / "config", env={}, data_dir=tmp_path / "data")

    async def go() -> str:
        runtime = EmbeddedRuntime(settings)
        try:
            await runtime.process([article(i) for i in range(8)])  # one batch: learns
            await runtime.process([article(8)])  # the next batch gets the learned set
            row = runtime.store.conn.execute(
                "SELECT data FROM articles WHERE url LIKE '%ilkley%'").fetchone()
            return str(EnrichedArticle.model_validate_json(row[0]).text)
        finally:
            await runtime.close()

    text = asyncio.run(go())
    assert "bridge reopened on day 8" in text and BOILERPLATE not in text
    reopened = EmbeddedRuntime(settings)  # the learned state was committed with the batch
    try:
        assert fingerprint(BOILERPLATE) in reopened.source_junk.known("valley.example")
    finally:
        asyncio.run(reopened.close())
