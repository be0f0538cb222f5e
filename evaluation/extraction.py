"""Score main-text extraction on the labelled pages of ``eval/extraction/``.

    python -m evaluation.extraction [--eval-dir ../shared/eval] [--baseline] [--show-worst N]

The metric is the public article-extraction benchmark's: each text becomes the multiset
of its word 4-grams (words are ``\\w+`` runs); per page TP/FP/FN are the shared / extra /
missing 4-grams, normalised by their sum; precision is averaged over the pages with a
prediction, recall over the pages with a truth (a page with no FP and no FN scores 1 for
both); F1 is the harmonic mean of the two averages.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evaluation.paths import eval_dir
from pipeline.errors import PoisonInputError
from pipeline.models import RawArticle
from pipeline.processing.clean.cleaner import Cleaner
from pipeline.processing.clean.extract import decode_html

DEFAULT_EVAL_DIR = eval_dir()
_TOKEN = re.compile(r"\w+")
_NO_URL = "https://example.invalid/"

Extractor = Callable[[str, str], str]  # (html, url) -> text


@dataclass(frozen=True, slots=True)
class Page:
    id: str
    url: str
    html: str
    truth: str


@dataclass(frozen=True, slots=True)
class Score:
    precision: float
    recall: float
    f1: float
    pages: int
    pages_per_second: float
    per_page: dict[str, tuple[float, float, float]]  # id -> normalised (tp, fp, fn)


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    """The multiset of word n-grams of ``text`` (a shorter text is one shorter shingle)."""
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1))
                   if tokens[i : i + n])


def match(truth: str, prediction: str) -> tuple[float, float, float]:
    """Normalised (tp, fp, fn) of one page."""
    true, pred = shingles(truth), shingles(prediction)
    tp = sum((true & pred).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def precision_recall(metrics: list[tuple[float, float, float]]) -> tuple[float, float]:
    precisions: list[float] = []
    recalls: list[float] = []
    for tp, fp, fn in metrics:
        if fp == 0 and fn == 0:
            precisions.append(1.0)
            recalls.append(1.0)
            continue
        if tp + fp > 0:
            precisions.append(tp / (tp + fp))
        if tp + fn > 0:
            recalls.append(tp / (tp + fn))
    return (statistics.mean(precisions) if precisions else 0.0,
            statistics.mean(recalls) if recalls else 0.0)


def load_pages(eval_dir: Path) -> list[Page]:
    """The labelled pages of ``eval_dir/extraction`` (decoded whatever their charset)."""
    root = eval_dir / "extraction"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id, entry in sorted(truth.items()):
        data = gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes())
        pages.append(Page(page_id, entry.get("url") or "", decode_html(data),
                          entry.get("articleBody") or ""))
    return pages


def score(pages: list[Page], extractor: Extractor) -> Score:
    started = time.perf_counter()
    predictions = {page.id: extractor(page.html, page.url) for page in pages}
    elapsed = time.perf_counter() - started
    per_page = {page.id: match(page.truth, predictions[page.id]) for page in pages}
    precision, recall = precision_recall(list(per_page.values()))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1, len(pages), len(pages) / elapsed, per_page)


def cleaner_extractor() -> Extractor:
    cleaner = Cleaner()

    def run(html: str, url: str) -> str:
        try:
            raw = RawArticle.model_validate({"url": url or _NO_URL, "html": html})
            return cleaner.clean(raw).text
        except PoisonInputError:
            return ""

    return run


def trafilatura_default(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url or None) or ""


def _report(name: str, result: Score) -> None:
    print(f"{name:<22} P={result.precision:.4f} R={result.recall:.4f} F1={result.f1:.4f}"
          f"  ({result.pages} pages, {result.pages_per_second:.1f} pages/s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip scoring raw trafilatura (default settings) for comparison")
    parser.add_argument("--show-worst", type=int, default=0, metavar="N",
                        help="list the N pages with the lowest per-page F1")
    args = parser.parse_args(argv)
    pages = load_pages(args.eval_dir)
    cleaner_extractor()("<html><body><p>warm up</p></body></html>", "https://example.com/")
    ours = score(pages, cleaner_extractor())
    _report("newswire Cleaner", ours)
    if not args.no_baseline:
        _report("trafilatura default", score(pages, trafilatura_default))
    if args.show_worst:
        ranked = sorted(ours.per_page.items(), key=lambda kv: kv[1][0])
        for page_id, (tp, fp, fn) in ranked[: args.show_worst]:
            print(f"  {page_id[:16]}  tp={tp:.3f} fp={fp:.3f} fn={fn:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
