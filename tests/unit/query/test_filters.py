import pytest

from pipeline.errors import QuerySyntaxError
from pipeline.query.filters import compose
from pipeline.query.parser import DateRange, Keyword, compile_query


def test_filters_and_onto_the_query() -> None:
    query = compose("pact OR deal", topic="nato", source="The Post", lang="en",
                    since="2024-06-01")
    assert query == ('(pact OR deal) AND topic:"nato" AND source:"The Post" AND '
                     'lang:"en" AND published:[2024-06-01 TO *]')
    node = compile_query(query)
    assert Keyword("source", "the post") in node.must  # type: ignore[union-attr]
    assert any(isinstance(n, DateRange) for n in node.must)  # type: ignore[union-attr]


def test_no_filters_leaves_the_query_alone() -> None:
    assert compose("pact") == "pact"
    assert compose(None) == "*"
    assert compose("  ", topic="nato") == 'topic:"nato"'
    assert compose(None, since="now-7d") == "published:[now-7d TO *]"


def test_bad_since_says_what_to_write() -> None:
    with pytest.raises(QuerySyntaxError, match="YYYY-MM-DD"):
        compose("pact", since="last week")


def test_quotes_in_filter_values_are_refused() -> None:
    with pytest.raises(QuerySyntaxError, match="quotes"):
        compose("pact", source='The "Post"')
