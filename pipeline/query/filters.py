"""Search filters (topic, source, language, since) composed into the query language.

    compose("pact", topic="nato", since="2024-06-01")
      → '(pact) AND topic:"nato" AND published:[2024-06-01 TO *]'

Filters are plain query text, so every store that understands the query language
(SQLite FTS5 + matcher, Elasticsearch) supports them with no code of its own, and the
composed query can be pasted into Kibana's Lucene mode as it is.
"""

from __future__ import annotations

import re

from pipeline.errors import QuerySyntaxError

_SINCE = re.compile(r"^(\d{4}-\d{2}-\d{2}|now(?:-\d+[smhdwMy])?(?:/[dMy])?)$")


def quoted(value: str) -> str:
    """A keyword value as a Lucene phrase. The query language takes a quoted value as it
    is (no escapes), so a value holding a quote or a backslash cannot be expressed."""
    if '"' in value or "\\" in value:
        raise QuerySyntaxError(f"filter value {value!r}: quotes and backslashes cannot be "
                               "searched as a keyword; search the words instead")
    return f'"{value}"'


def compose(query: str | None, *, topic: str | None = None, source: str | None = None,
            lang: str | None = None, since: str | None = None) -> str:
    """The query with each given filter ANDed on; ``*`` when there is nothing at all."""
    clauses = [f"({query.strip()})"] if query and query.strip() else []
    for field, value in (("topic", topic), ("source", source), ("lang", lang)):
        if value and value.strip():
            clauses.append(f"{field}:{quoted(value.strip())}")
    if since and since.strip():
        since = since.strip()
        if not _SINCE.match(since):
            raise QuerySyntaxError(
                f"bad --since {since!r}: use YYYY-MM-DD or date math such as now-7d")
        clauses.append(f"published:[{since} TO *]")
    if not clauses:
        return "*"
    if len(clauses) == 1 and query and query.strip():
        return query.strip()
    return " AND ".join(clauses)
