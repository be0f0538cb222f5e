"""Checks of alert rules beyond their fields: the query parses, every channel is one newswire
can deliver to, every topic the rule names exists. Used when alerts.yaml is loaded and by
``newswire alerts add``, so a rule is refused the same way wherever it comes from."""

from __future__ import annotations

from collections.abc import Collection, Iterator

from pipeline.errors import QuerySyntaxError
from pipeline.models import AlertRule
from pipeline.notify.spec import ChannelError, validate
from pipeline.query.parser import Bool, Keyword, Node, compile_query


def _topic_refs(node: Node) -> Iterator[str]:
    if isinstance(node, Keyword) and node.field == "topic" and not node.prefix:
        yield node.value
    elif isinstance(node, Bool):
        for child in (*node.must, *node.should, *node.must_not):
            yield from _topic_refs(child)


def rule_problem(rule: AlertRule, topics: Collection[str] | None) -> tuple[str, str] | None:
    """(field, what is wrong) with ``rule``, None if nothing; ``topics`` None skips the
    topic check."""
    try:
        node = compile_query(rule.query)
    except QuerySyntaxError as exc:
        return "query", f"{rule.query!r} does not parse: {exc}"
    for spec in rule.channels:
        try:
            validate(spec)
        except ChannelError as exc:
            return "channels", str(exc)
    if topics is not None:
        known = {t.lower() for t in topics}
        unknown = sorted({t for t in (*rule.topics, *_topic_refs(node))
                          if t.lower() not in known})
        if unknown:
            return "topics", (f"{', '.join(unknown)} not defined in topics.yaml (known: "
                              f"{', '.join(sorted(known)) or 'none'}); the rule could never fire")
    return None
