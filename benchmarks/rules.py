"""Standing queries at scale: 1,000 and 10,000 alert rules against a stream of articles.

Rules are built from the stream's own vocabulary (so many of them can match) in the shapes
people write: terms, AND/OR, phrases with slop, negations, title: and topic: fields.
Measured on one core, document analysis included: articles/s and full evaluations per
article (what the anchor pre-filter leaves to evaluate).
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter

from evaluation.paths import eval_dir
from pipeline.query.analysis import STOP_WORDS
from pipeline.query.matcher import Document
from pipeline.query.monitor import QueryMonitor

EVAL = eval_dir() / "clustering"
SHAPES = ["{a} AND {b}", "{a} OR {b}", '"{a} {b}"~3', "{a} AND {b} AND NOT {c}",
          "({a} OR {b}) AND {c}", "title:{a}", "{a} AND topic:{t}", "{a}"]


def articles() -> list[dict[str, str]]:
    rows = []
    for name in ("gva_incidents.jsonl", "ecbplus.jsonl"):
        for line in (EVAL / name).read_text().splitlines():
            rec = json.loads(line)
            rows.append({"title": rec["title"] or "", "text": rec["text"] or ""})
    return rows


def rules(n: int, docs: list[dict[str, str]], seed: int = 11) -> list[str]:
    counts: Counter[str] = Counter()
    for d in docs[:500]:
        counts.update(w.lower() for w in d["text"].split() if w.isalpha() and len(w) > 3)
    vocab = [w for w, _ in counts.most_common(3000) if w not in STOP_WORDS]
    rng = random.Random(seed)
    topics = ["nato", "elections", "natural-disasters", "courts-justice"]
    return [rng.choice(SHAPES).format(a=rng.choice(vocab), b=rng.choice(vocab),
                                      c=rng.choice(vocab), t=rng.choice(topics))
            for _ in range(n)]


def run(n_rules: int, docs: list[dict[str, str]]) -> dict[str, float]:
    monitor = QueryMonitor()
    for i, query in enumerate(rules(n_rules, docs)):
        monitor.add(f"r{i}", query)
    matched = 0
    start = time.perf_counter()
    for d in docs:
        doc = Document.build(title=d["title"], text=d["text"], topics=["courts-justice"])
        matched += len(monitor.match(doc))
    seconds = time.perf_counter() - start
    return {"done": len(docs), "seconds": seconds, "rate": len(docs) / seconds,
            "evaluated_per_article": monitor.evaluated / len(docs),
            "matches_per_article": matched / len(docs)}


def rows() -> list[tuple[str, dict[str, float]]]:
    docs = articles()
    return [(f"matcher, {n:,} rules, 1 core", run(n, docs)) for n in (1_000, 10_000)]


if __name__ == "__main__":
    for name, row in rows():
        print(f"{name:32} {row['rate']:8.0f} art/s  {row['evaluated_per_article']:7.1f} "
              f"evaluated/article  {row['matches_per_article']:5.1f} matches/article")
