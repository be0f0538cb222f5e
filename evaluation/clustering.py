"""Story-clustering quality on the labelled development sets (``../shared/eval/clustering``).

    python -m evaluation.clustering [--eval-dir ../shared/eval] [--no-baseline]

Datasets: the two labelled dev sets (``gva_incidents``, ``ecbplus``) and ``synthetic``, the
project's own fictional corpus (``tests/fixtures/corpus.py``: 283 articles of 80 events of six
kinds in 20 invented places, template sentences shared by every event of a kind; gold label
``event``). It checks that events of one kind in different places stay apart.

Each dataset is streamed through a fresh ``StoryClusterer`` in ``published`` order: dated
articles are sorted (stably) into the positions dated articles hold in the file, undated
ones keep their file position, stay undated and arrive (``fetched``) at the stream clock.
Text is cleaned with ``pipeline.processing.clean.cleaner.Cleaner`` when that module exists, as the
pipeline would. Prints pairwise precision / recall / F1 and B-cubed F1 per dataset, articles
per second, the recall ceiling of the window (pairs of a gold story more than ``window``
apart in arrival, with no article of it between, cannot be joined online), and a batch
baseline (TF-IDF, average-link, threshold tuned on the same data). ``--split`` also scores
two disjoint halves of each dataset (by a hash of the gold story, or of the ECB+ topic so
that a topic's two events stay together), each streamed on its own: a change should help
both, not one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from evaluation.paths import eval_dir
from pipeline.errors import PoisonInputError
from pipeline.models import Article
from pipeline.processing.cluster.clusterer import StoryClusterer

DATASETS = ("gva_incidents", "ecbplus", "synthetic")
SYNTHETIC = "synthetic"  # generated, not read from the eval directory
DEFAULT_EVAL_DIR = eval_dir()
WINDOW = timedelta(days=3)  # as config/newswire.yaml's story_window_hours


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    bcubed_f1: float
    clusters: int


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score(predicted: list[str], gold: list[str]) -> Scores:
    """Pairwise and B-cubed scores of a clustering against gold labels (same item order)."""
    cells = Counter(zip(predicted, gold, strict=True))
    sizes_p, sizes_g = Counter(predicted), Counter(gold)
    tp = sum(_pairs(n) for n in cells.values())
    pp, gp = sum(_pairs(n) for n in sizes_p.values()), sum(_pairs(n) for n in sizes_g.values())
    precision, recall = (tp / pp if pp else 1.0), (tp / gp if gp else 1.0)
    b_p = sum(n * n / sizes_p[p] for (p, _), n in cells.items()) / len(gold)
    b_r = sum(n * n / sizes_g[g] for (_, g), n in cells.items()) / len(gold)
    return Scores(precision, recall, _f1(precision, recall), _f1(b_p, b_r), len(sizes_p))


def synthetic_rows() -> list[dict[str, Any]]:
    """The fictional corpus as dataset rows (``id``, ``story`` = its gold ``event``)."""
    from tests.fixtures.corpus import corpus

    return [dict(r, id=f"syn-{n}", story=r["event"]) for n, r in enumerate(corpus())]


def dataset(eval_dir: Path, name: str) -> list[dict[str, Any]]:
    """Rows of a named dataset in stream order."""
    if name == SYNTHETIC:
        return order(synthetic_rows())
    return load(eval_dir / "clustering" / f"{name}.jsonl")


def load(path: Path) -> list[dict[str, Any]]:
    """Rows of a dataset file in stream order (see the module docstring)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return order(rows)


def order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dated rows sorted (stably) into the positions dated rows hold; undated ones stay."""
    dated = [i for i, r in enumerate(rows) if r.get("published")]
    ordered = sorted((rows[i] for i in dated), key=lambda r: str(r["published"]))
    out = list(rows)
    for slot, row in zip(dated, ordered, strict=True):
        out[slot] = row
    return out


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _cleaner() -> Callable[[dict[str, Any], datetime | None, datetime], Article] | None:
    try:
        from pipeline.models import RawArticle
        from pipeline.processing.clean.cleaner import Cleaner
    except ImportError:
        return None
    cleaner = Cleaner()

    def clean(row: dict[str, Any], published: datetime | None, when: datetime) -> Article:
        raw = RawArticle.model_validate(
            {
                "id": row["id"],
                "url": row.get("url") or f"https://example.invalid/{row['id']}",
                "title": row.get("title") or None,
                "text": row.get("text") or "",
                "published": published,
                "fetched": when,
                "source": row.get("source") or "unknown",
            }
        )
        return cleaner.clean(raw)

    return clean


def articles(rows: Iterable[dict[str, Any]], use_cleaner: bool = True) -> list[Article]:
    """Articles as the pipeline would see them; undated rows take the current stream time."""
    clean = _cleaner() if use_cleaner else None
    out: list[Article] = []
    dates = [str(row["published"]) for row in rows if row.get("published")]
    clock = _parse(min(dates)) if dates else datetime(2000, 1, 1, tzinfo=UTC)
    for row in rows:
        published = _parse(str(row["published"])) if row.get("published") else None
        clock = max(clock, published or clock)
        when = clock
        article: Article | None = None
        if clean is not None:
            try:
                article = clean(row, published, when).model_copy(update={"id": row["id"]})
            except (PoisonInputError, ValidationError):  # rejected: cluster the raw text anyway
                article = None
        if article is None:
            article = Article(
                id=row["id"],
                url=row.get("url") or f"https://example.invalid/{row['id']}",
                title=row.get("title") or "",
                text=row.get("text") or "",
                published=published,
                fetched=when,
                source=row.get("source") or "unknown",
            )
        out.append(article)
    return out


def run_stream(items: list[Article], window: timedelta = WINDOW) -> tuple[list[str], float]:
    """Story id per article (after merges) and articles per second."""
    clusterer = StoryClusterer({}, window=window)
    assigned: list[str] = []
    redirect: dict[str, str] = {}
    start = time.perf_counter()
    for article in items:
        result = clusterer.assign(article, [])
        for gone in result.merged:
            redirect[gone] = result.story.id
        assigned.append(result.story.id)
    elapsed = time.perf_counter() - start

    def final(story_id: str) -> str:
        while story_id in redirect:
            story_id = redirect[story_id]
        return story_id

    return [final(s) for s in assigned], len(items) / elapsed if elapsed else math.inf


def halves(rows: list[dict[str, Any]], salt: str = "") -> tuple[list[dict[str, Any]], ...]:
    """Two disjoint halves of a dataset, by a hash of each row's topic (or gold story)."""
    parts: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
    for row in rows:
        key = salt + str(row.get("topic") or row["story"])
        parts[hashlib.md5(key.encode()).digest()[0] % 2].append(row)
    return parts


def ceiling(items: list[Article], gold: list[str], window: timedelta = WINDOW) -> float:
    """Pairwise recall at best: a story closes ``window`` after its last article arrived."""
    last: dict[str, float] = {}
    runs: Counter[tuple[str, int]] = Counter()
    run: dict[str, int] = {}
    for article, story in zip(items, gold, strict=True):
        at = article.fetched.timestamp()
        if story not in last or at - last[story] > window.total_seconds() + 3600:
            run[story] = run.get(story, -1) + 1
        last[story] = max(at, last.get(story, at))
        runs[story, run[story]] += 1
    reachable = sum(_pairs(n) for n in runs.values())
    total = sum(_pairs(n) for n in Counter(gold).values())
    return reachable / total if total else 1.0


def baseline(items: list[Article], gold: list[str]) -> tuple[float, Scores]:
    """Batch TF-IDF + average-link clustering, distance threshold tuned on pairwise F1."""
    import numpy as np
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    from pipeline.query.analysis import terms

    docs = [Counter(terms(a.title + "\n" + a.text)) for a in items]
    vocab = {t: i for i, t in enumerate(sorted({t for d in docs for t in d}))}
    df = np.zeros(len(vocab))
    for d in docs:
        for t in d:
            df[vocab[t]] += 1
    idf = np.log(len(docs) / df) + 1.0
    matrix = np.zeros((len(docs), len(vocab)), dtype=np.float32)
    for row, d in enumerate(docs):
        for t, n in d.items():
            matrix[row, vocab[t]] = (1.0 + math.log(n)) * idf[vocab[t]]
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-12
    tree = linkage(pdist(matrix, metric="cosine"), method="average")
    best: tuple[float, Scores] | None = None
    for cut in np.arange(0.30, 0.99, 0.02):
        labels = [str(x) for x in fcluster(tree, t=cut, criterion="distance")]
        result = score(labels, gold)
        if best is None or result.f1 > best[1].f1:
            best = (float(cut), result)
    assert best is not None
    return best


def evaluate(eval_dir: Path, name: str, use_cleaner: bool = True) -> tuple[Scores, float]:
    rows = dataset(eval_dir, name)
    items = articles(rows, use_cleaner)
    predicted, rate = run_stream(items)
    return score(predicted, [r["story"] for r in rows]), rate


def _line(name: str, s: Scores, gold: list[str], rate: float, items: list[Article]) -> str:
    return (
        f"{name:14s} online   pairwise P {s.precision:.3f} R {s.recall:.3f} F1 {s.f1:.3f}"
        f"  B3-F1 {s.bcubed_f1:.3f}  stories {s.clusters} (gold {len(set(gold))})"
        f"  {rate:,.0f} articles/s  recall ceiling {ceiling(items, gold):.3f}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--no-baseline", action="store_true", help="skip the batch baseline")
    parser.add_argument("--no-clean", action="store_true", help="do not run the Cleaner first")
    parser.add_argument("--split", action="store_true", help="also score two disjoint halves")
    args = parser.parse_args(argv)
    print(f"cleaner: {'off' if args.no_clean or _cleaner() is None else 'on'}")
    for name in DATASETS:
        rows = dataset(args.eval_dir, name)
        parts = [(name, rows)]
        if args.split:
            parts += [(f"  half {n}", half) for n, half in enumerate(halves(rows))]
        for label, part in parts:
            items = articles(part, not args.no_clean)
            gold = [r["story"] for r in part]
            predicted, rate = run_stream(items)
            print(_line(label, score(predicted, gold), gold, rate, items))
        if not args.no_baseline:
            cut, b = baseline(articles(rows, not args.no_clean), [r["story"] for r in rows])
            print(
                f"{name:14s} baseline pairwise P {b.precision:.3f} R {b.recall:.3f} F1 {b.f1:.3f}"
                f"  B3-F1 {b.bcubed_f1:.3f}  stories {b.clusters}  (average-link, cut {cut:.2f})"
            )


if __name__ == "__main__":
    main()
