"""Story-clustering quality on the labelled development sets (``../shared/eval/clustering``).

    python -m evaluation.clustering [--eval-dir ../shared/eval] [--no-baseline] [--split]

Protocols (the issue's, README of the eval data):

    gva_incidents   2,007 US reports of gun incidents, in ``published`` order
    ecbplus         772 reports, two similar events per topic, **undated**, in a fixed
                    shuffle (by sha256 of the id; ``published`` removed): content decides
    ecbplus_dated   the same with their dates: dated rows sorted into the positions dated
                    rows hold, undated ones keep their place
    synthetic       the project's fictional corpus (``tests/fixtures/corpus.py``: 80 events
                    of six kinds in 20 invented places; gold label ``event``)

Undated articles arrive (``fetched``) at the stream clock (the latest date seen). Text is
cleaned with ``pipeline.processing.clean.cleaner.Cleaner`` first, as the pipeline would.

Measures per protocol: pairwise precision / recall / F1, B-cubed F1, and as alerts see it,
in stream order, **missed new events** (share of gold stories whose first article joined a
story that already held an article of another gold story: its "new story" alert never
fires) and **extra stories per event** (mean over gold stories of the number of predicted
stories holding its articles − 1: duplicate alerts). Also articles per second, and a batch
baseline (TF-IDF, average-link, threshold tuned on the same data). ``--split`` also scores
two disjoint halves (by a hash of the ECB+ topic, or of the gold story), each streamed on
its own: a change should help both. Cross-validated figures (thresholds chosen on other
topics / incidents): ``python -m evaluation.fit_story_model --cv``.
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
from pipeline.processing.cluster.clusterer import Assignment, StoryClusterer
from pipeline.sources.archive import ReplayClock

SYNTHETIC = "synthetic"  # generated, not read from the eval directory
PROTOCOLS = {  # name → (data file, order)
    "gva_incidents": ("gva_incidents", "published"),
    "ecbplus": ("ecbplus", "undated"),
    "ecbplus_dated": ("ecbplus", "published"),
    SYNTHETIC: (SYNTHETIC, "published"),
}
DATASETS = tuple(PROTOCOLS)
DEFAULT_EVAL_DIR = eval_dir()
WINDOW = timedelta(days=3)  # as config/newswire.yaml's story_window_hours


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    bcubed_f1: float
    clusters: int
    missed: float = 0.0  # share of gold stories whose first article joined another's story
    extra: float = 0.0  # mean over gold stories of (predicted stories holding it − 1)


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score(predicted: list[str], gold: list[str], missed: float = 0.0) -> Scores:
    """Pairwise and B-cubed scores of a clustering against gold labels (same item order)."""
    cells = Counter(zip(predicted, gold, strict=True))
    sizes_p, sizes_g = Counter(predicted), Counter(gold)
    tp = sum(_pairs(n) for n in cells.values())
    pp, gp = sum(_pairs(n) for n in sizes_p.values()), sum(_pairs(n) for n in sizes_g.values())
    precision, recall = (tp / pp if pp else 1.0), (tp / gp if gp else 1.0)
    b_p = sum(n * n / sizes_p[p] for (p, _), n in cells.items()) / len(gold)
    b_r = sum(n * n / sizes_g[g] for (_, g), n in cells.items()) / len(gold)
    spread = Counter(g for _, g in cells)  # predicted stories per gold story
    extra = sum(n - 1 for n in spread.values()) / len(sizes_g) if sizes_g else 0.0
    return Scores(
        precision, recall, _f1(precision, recall), _f1(b_p, b_r), len(sizes_p), missed, extra
    )


def missed_new_events(arrivals: list[tuple[str, list[str]]], gold: list[str]) -> float:
    """Share of gold stories whose first article went to a story already holding another
    gold story's article. ``arrivals``: (story joined, stories merged into it) per article."""
    held: dict[str, set[str]] = {}
    missed, firsts = 0, set[str]()
    for (story, merged), label in zip(arrivals, gold, strict=True):
        mine = held.setdefault(story, set())
        for gone in merged:
            mine |= held.pop(gone, set())
        if label not in firsts:
            firsts.add(label)
            missed += bool(mine - {label})
        mine.add(label)
    return missed / len(firsts) if firsts else 0.0


def synthetic_rows() -> list[dict[str, Any]]:
    """The fictional corpus as dataset rows (``id``, ``story`` = its gold ``event``)."""
    from tests.fixtures.corpus import corpus

    return [dict(r, id=f"syn-{n}", story=r["event"]) for n, r in enumerate(corpus())]


def dataset(eval_dir: Path, name: str) -> list[dict[str, Any]]:
    """Rows of a protocol (``PROTOCOLS``) in stream order."""
    source, how = PROTOCOLS[name]
    if source == SYNTHETIC:
        rows = synthetic_rows()
    else:
        path = eval_dir / "clustering" / f"{source}.jsonl"
        rows = [json.loads(s) for s in path.read_text(encoding="utf-8").splitlines() if s]
    return shuffled(rows) if how == "undated" else order(rows)


def shuffled(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The undated protocol: ``published`` removed, ordered by sha256 of the id."""
    out = [dict(r, published=None) for r in rows]
    return sorted(out, key=lambda r: hashlib.sha256(str(r["id"]).encode()).hexdigest())


def load(path: Path) -> list[dict[str, Any]]:
    """Rows of a dataset file in published order (see ``order``)."""
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
    """Articles as the pipeline would see them; undated rows take the current stream time
    (``ReplayClock``, from the first date)."""
    clean = _cleaner() if use_cleaner else None
    out: list[Article] = []
    dates = [str(row["published"]) for row in rows if row.get("published")]
    replay = ReplayClock(_parse(min(dates)) if dates else datetime(2000, 1, 1, tzinfo=UTC))
    now = datetime.now(UTC)
    for row in rows:  # they arrive as ``ingest`` replays an archive
        published = _parse(str(row["published"])) if row.get("published") else None
        when = replay.time_of(published, now)
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


@dataclass
class Stream:
    """One streamed dataset: final story per article, what each did on arrival, speed."""

    predicted: list[str]
    arrivals: list[tuple[str, list[str]]]  # (story joined or started, stories merged into it)
    results: list[Assignment]
    rate: float

    def scores(self, gold: list[str]) -> Scores:
        return score(self.predicted, gold, missed_new_events(self.arrivals, gold))


def stream(items: list[Article], make: Callable[[], StoryClusterer] | None = None) -> Stream:
    """Assign ``items`` in order with a fresh clusterer (``make``, default: shipped model)."""
    clusterer = make() if make else StoryClusterer({}, window=WINDOW)
    results: list[Assignment] = []
    redirect: dict[str, str] = {}
    start = time.perf_counter()
    for article in items:
        result = clusterer.assign(article, [])
        for gone in result.merged:
            redirect[gone] = result.story.id
        results.append(result)
    elapsed = time.perf_counter() - start

    def final(story_id: str) -> str:
        while story_id in redirect:
            story_id = redirect[story_id]
        return story_id

    return Stream(
        [final(r.story.id) for r in results],
        [(r.story.id, list(r.merged)) for r in results],
        results,
        len(items) / elapsed if elapsed else math.inf,
    )


def run_stream(items: list[Article], window: timedelta = WINDOW) -> tuple[list[str], float]:
    """Story id per article (after merges) and articles per second."""
    done = stream(items, lambda: StoryClusterer({}, window=window))
    return done.predicted, done.rate


def group_of(row: dict[str, Any]) -> str:
    """What must stay together when splitting: the ECB+ topic (its two events), else the
    gold story (a GVA incident)."""
    return str(row.get("topic") or row["story"])


def halves(rows: list[dict[str, Any]], salt: str = "") -> tuple[list[dict[str, Any]], ...]:
    """Two disjoint halves of a dataset, by a hash of each row's topic (or gold story)."""
    return folds(rows, 2, salt)


def folds(rows: list[dict[str, Any]], k: int, salt: str = "") -> tuple[list[dict[str, Any]], ...]:
    """``k`` disjoint parts by a hash of the group (``group_of``), stream order kept."""
    parts: tuple[list[dict[str, Any]], ...] = tuple([] for _ in range(k))
    for row in rows:
        key = salt + group_of(row)
        parts[int.from_bytes(hashlib.md5(key.encode()).digest()[:4], "little") % k].append(row)
    return parts


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
    """Scores of the shipped clusterer on one protocol, and articles per second."""
    rows = dataset(eval_dir, name)
    done = stream(articles(rows, use_cleaner))
    return done.scores([r["story"] for r in rows]), done.rate


def line(name: str, s: Scores, gold: list[str], kind: str = "online") -> str:
    return (
        f"{name:14s} {kind:8s} pairwise P {s.precision:.3f} R {s.recall:.3f} F1 {s.f1:.3f}"
        f"  B3-F1 {s.bcubed_f1:.3f}  missed {100 * s.missed:4.1f} %  extra/event "
        f"{s.extra:.2f}  stories {s.clusters} (gold {len(set(gold))})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--no-baseline", action="store_true", help="skip the batch baseline")
    parser.add_argument("--no-clean", action="store_true", help="do not run the Cleaner first")
    parser.add_argument("--split", action="store_true", help="also score two disjoint halves")
    parser.add_argument("--only", nargs="*", choices=DATASETS, help="these protocols only")
    args = parser.parse_args(argv)
    print(f"cleaner: {'off' if args.no_clean or _cleaner() is None else 'on'}")
    for name in args.only or DATASETS:
        rows = dataset(args.eval_dir, name)
        parts = [(name, rows)]
        if args.split:
            parts += [(f"  half {n}", half) for n, half in enumerate(halves(rows))]
        for label, part in parts:
            gold = [r["story"] for r in part]
            done = stream(articles(part, not args.no_clean))
            print(line(label, done.scores(gold), gold) + f"  {done.rate:,.0f} articles/s")
        if not args.no_baseline and name != "ecbplus_dated":  # content only: as undated
            gold = [r["story"] for r in rows]
            cut, b = baseline(articles(rows, not args.no_clean), gold)
            print(line(name, b, gold, "baseline") + f"  (average-link, cut {cut:.2f})")


if __name__ == "__main__":
    main()
