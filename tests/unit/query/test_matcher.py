from __future__ import annotations

import pickle
import re
from datetime import UTC, datetime

import pytest

from pipeline.errors import QuerySyntaxError
from pipeline.query.analysis import analyze_word, terms, tokens
from pipeline.query.matcher import Document, matches
from pipeline.query.parser import compile_query

DOC = Document.build(
    title="Allies sign security pact in Rome",
    text="The agreements cover frozen assets held abroad. NATO membership is not offered. "
         "Officials said sanctions on the Kremlin's banks would follow, the minister's aide said.",
    author="Ana Lopez", source="Rome Daily", lang="en", topics=["frozen-assets"],
    story="s-1", published=datetime(2024, 6, 13, tzinfo=UTC),
)


@pytest.mark.parametrize("query, expected", [
    ('"frozen assets"', True),
    ('"assets frozen"', False),
    ('"assets frozen"~2', True),
    ("agreement", True),  # stemming: agreements → agreement
    ("pacts", True),
    ("NATO AND membership", True),
    ("NATO AND treaty", False),
    ("treaty OR nato", True),
    ("nato -membership", False),
    ("+nato treaty", True),
    ("NOT nato", False),
    ("topic:frozen-assets", True),
    ("topic:nato", False),
    ("title:pact", True),
    ("title:nato", False),
    ("source:\"rome daily\"", True),
    ("lang:en AND story:s-1", True),
    ("sanction*", True),
    ("kremlin", True),  # possessive removed
    ("author:lopez", True),
    ("published:[2024-06-01 TO 2024-06-30]", True),
    ("published:[now-7d TO now]", False),
    ("(treaty OR pact) AND NOT title:rome", False),
])
def test_query_semantics(query: str, expected: bool) -> None:
    assert matches(query, DOC).matched is expected


def test_evidence_has_offsets_into_the_text() -> None:
    result = matches('"frozen assets"', DOC)
    words = [(w, DOC.fields["text"].text[s:e]) for _f, w, s, e in result.evidence]
    assert words == [("frozen", "frozen"), ("assets", "assets")]


@pytest.mark.parametrize("bad", ["a AND (b", "", "colour:red", "published:[yesterday TO now]"])
def test_bad_queries_say_why(bad: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        compile_query(bad)
    assert str(info.value)


def test_tokens_carry_each_words_offsets_and_position() -> None:
    text = "It's the mayor's: mayor, MAYOR — l’état… café-au-lait; 4-year-old  the it's"
    words = list(re.finditer(r"\w+(?:['’]\w+)*", text))
    expected = [(analyze_word(m.group()), m.start(), m.end(), n) for n, m in enumerate(words)
                if analyze_word(m.group()) is not None]
    assert [tuple(t) for t in tokens(text)] == expected
    assert terms(text) == [t[0] for t in expected]


def test_a_pickled_document_ships_terms_and_matches_the_same() -> None:
    query = compile_query('"frozen assets" OR kremlin')
    before = matches(query, DOC)
    copy = pickle.loads(pickle.dumps(DOC))
    assert all(f._positions is None and f._tokens is None for f in copy.fields.values())
    assert matches(query, copy) == before and before.evidence
    assert {n: f.positions for n, f in copy.fields.items()} == \
        {n: f.positions for n, f in DOC.fields.items()}
