from __future__ import annotations

import random

from pipeline.query.matcher import Document, matches
from pipeline.query.monitor import QueryMonitor, anchors
from pipeline.query.parser import compile_query

WORDS = ["pact", "treaty", "nato", "summit", "ukraine", "russia", "assets", "frozen",
         "sanctions", "quake", "flood", "vote", "court", "strike", "port", "tariff", "grain",
         "drone", "missile", "border", "refugee"]


def test_anchors_of_constructs() -> None:
    assert anchors(compile_query("NATO AND membership")) in ({"nato"}, {"membership"})
    assert anchors(compile_query("pact OR treaty")) == {"pact", "treati"}
    assert anchors(compile_query("NOT nato")) is None
    assert anchors(compile_query("published:[now-7d TO now]")) is None
    assert anchors(compile_query('"frozen assets"~2 AND -nato')) is not None


def test_prefilter_never_changes_results_and_skips_most_rules() -> None:
    rng = random.Random(3)
    shapes = ["{a}", "{a} AND {b}", "{a} OR {b}", '"{a} {b}"~3', "{a} -{b}", "({a} OR {b}) AND {c}",
              "NOT {a}", "{a}*", "title:{a}", "topic:{a}"]
    queries = [rng.choice(shapes).format(a=rng.choice(WORDS), b=rng.choice(WORDS),
                                         c=rng.choice(WORDS)) for _ in range(400)]
    monitor = QueryMonitor()
    for i, query in enumerate(queries):
        monitor.add(f"q{i}", query)
    for _ in range(30):
        text = " ".join(rng.choice(WORDS) for _ in range(12))
        doc = Document.build(title=rng.choice(WORDS), text=text, topics=[rng.choice(WORDS)])
        expected = {f"q{i}" for i, q in enumerate(queries) if matches(q, doc).matched}
        assert {s.name for s, _ in monitor.match(doc)} == expected
    assert monitor.evaluated < 30 * len(queries)
