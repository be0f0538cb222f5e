"""Score main-text extraction on the labelled pages of ``eval/extraction/``.

    python -m evaluation.extraction [--eval-dir ../shared/eval] [--no-baseline] [--no-cv]
                                    [--rules] [--losers N]

Prints the clean stage's F1/P/R on the development pages, then its leave-one-site-out
cross-validated score: for each site, every rule of the clean stage (``clean/rules.py``)
is kept or turned off using only the *other* sites' pages (off when turning it off
alone raises their F1), and the held-out site's pages are scored with that rule set.
The cross-validated F1 is the metric over all pages, each scored in the fold where its
site was held out. ``--rules`` lists each rule's effect on the pages it changes and in
how many folds it was kept; ``--losers N`` the N held-out pages that score lowest, with
the lines that cost them (extra lines kept, reporting missed and the rule that dropped
it, or "not extracted").

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from evaluation.paths import eval_dir
from pipeline.errors import PoisonInputError
from pipeline.models import RawArticle
from pipeline.processing.clean.cleaner import Cleaner, Explanation
from pipeline.processing.clean.extract import Extracted, decode_html, extract_html
from pipeline.processing.clean.rules import RULES

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


Metrics = dict[str, tuple[float, float, float]]  # page id -> normalised (tp, fp, fn)


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


def prf(metrics: Iterable[tuple[float, float, float]]) -> tuple[float, float, float]:
    """(precision, recall, F1) over pages' normalised (tp, fp, fn)."""
    precision, recall = precision_recall(list(metrics))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def score(pages: list[Page], extractor: Extractor) -> Score:
    started = time.perf_counter()
    predictions = {page.id: extractor(page.html, page.url) for page in pages}
    elapsed = time.perf_counter() - started
    per_page = {page.id: match(page.truth, predictions[page.id]) for page in pages}
    precision, recall, f1 = prf(per_page.values())
    return Score(precision, recall, f1, len(pages), len(pages) / elapsed, per_page)


def site(page: Page) -> str:
    """The site a page belongs to (its host without ``www.``): the unit of a fold."""
    host = (urlsplit(page.url).hostname or "").lower()
    return host.removeprefix("www.") or page.id


def page_f1(metric: tuple[float, float, float]) -> float:
    tp, fp, fn = metric
    return 1.0 if fp == fn == 0 else 2 * tp / (2 * tp + fp + fn)


def _raw(page: Page) -> RawArticle:
    return RawArticle.model_validate({"url": page.url or _NO_URL, "html": page.html})


def cleaner_extractor(disabled: Iterable[str] | None = None) -> Extractor:
    """The clean stage as an extractor (its default rules unless ``disabled`` is given)."""
    cleaner = Cleaner(disabled)

    def run(html: str, url: str) -> str:
        try:
            raw = RawArticle.model_validate({"url": url or _NO_URL, "html": html})
            return cleaner.clean(raw).text
        except PoisonInputError:
            return ""

    return run


class Ablation:
    """The clean stage's output on every page under any set of turned-off rules, each page
    extracted once per extraction mode (the text pass is what the rules change)."""

    def __init__(self, pages: list[Page]) -> None:
        self.pages = pages
        self._extracted: dict[tuple[str, str, bool], Extracted] = {}
        self._metrics: dict[frozenset[str], Metrics] = {}

    def _extract(self, html: str, url: str, precision: bool) -> Extracted:
        key = (url, html, precision)  # a str hashes once; the pages live as long as this
        found = self._extracted.get(key)
        if found is None:
            found = self._extracted[key] = extract_html(html, url, precision)
        return found

    def explain(self, page: Page, disabled: frozenset[str] = frozenset()) -> Explanation:
        return Cleaner(disabled, self._extract).explain(_raw(page))

    def metrics(self, disabled: frozenset[str] = frozenset()) -> Metrics:
        """Normalised (tp, fp, fn) of every page with the rules in ``disabled`` off."""
        found = self._metrics.get(disabled)
        if found is None:
            cleaner = Cleaner(disabled, self._extract)
            found = {}
            for page in self.pages:
                try:
                    text = cleaner.clean(_raw(page)).text
                except PoisonInputError:
                    text = ""
                found[page.id] = match(page.truth, text)
            self._metrics[disabled] = found
        return found


@dataclass(frozen=True, slots=True)
class CrossValidation:
    precision: float
    recall: float
    f1: float
    folds: int
    held_out: Metrics  # page id -> its (tp, fp, fn) in the fold that held its site out
    dropped: dict[str, frozenset[str]]  # site -> rules its fold turned off


def cross_validate(ablation: Ablation, rules: Iterable[str] = RULES) -> CrossValidation:
    """Leave-one-site-out: per site, turn off each rule whose removal alone raises the F1
    of the other sites' pages; score the site's pages with what is left."""
    names = list(rules)
    full = ablation.metrics()
    without = {name: ablation.metrics(frozenset({name})) for name in names}
    by_site: dict[str, list[str]] = {}
    for page in ablation.pages:
        by_site.setdefault(site(page), []).append(page.id)
    held_out: Metrics = {}
    dropped: dict[str, frozenset[str]] = {}
    for name_of_site, ids in sorted(by_site.items()):
        out = set(ids)
        train = [pid for pid in full if pid not in out]
        base = prf(full[pid] for pid in train)[2]
        off = frozenset(n for n in names if prf(without[n][pid] for pid in train)[2] > base)
        dropped[name_of_site] = off
        fold = ablation.metrics(off)
        held_out.update({pid: fold[pid] for pid in ids})
    precision, recall, f1 = prf(held_out.values())
    return CrossValidation(precision, recall, f1, len(by_site), held_out, dropped)


def rule_effects(ablation: Ablation, cv: CrossValidation) -> list[str]:
    """One line per rule: the pages it changes, how much it helps or hurts them (page F1
    with it minus without it) and the share of folds that kept it."""
    full = ablation.metrics()
    lines = []
    for name in RULES:
        without = ablation.metrics(frozenset({name}))
        deltas = {pid: page_f1(full[pid]) - page_f1(without[pid]) for pid in full
                  if abs(page_f1(full[pid]) - page_f1(without[pid])) > 1e-9}
        kept = sum(1 for off in cv.dropped.values() if name not in off)
        gain = prf(full.values())[2] - prf(without.values())[2]
        helps = sum(1 for d in deltas.values() if d > 0)
        lines.append(f"  {name:<27} pages {len(deltas):>2} (+{helps} -{len(deltas) - helps})"
                     f"  dF1 {gain:+.4f}  kept in {kept}/{cv.folds} folds")
    return lines


def _shingle_share(line: str, pool: Counter[tuple[str, ...]]) -> float:
    grams = shingles(line)
    return sum(1 for g in grams if g in pool) / len(grams) if grams else 1.0


def why_lost(page: Page, explanation: Explanation, limit: int = 4) -> list[str]:
    """The lines that cost ``page`` most: kept lines not in the truth, truth lines
    missed (and the rule that dropped them, else "not extracted")."""
    truth = shingles(page.truth)
    kept = shingles("\n".join(explanation.kept))
    extra = [line for line in explanation.kept if _shingle_share(line, truth) < 0.5]
    dropped = [(v.line, v.rule) for v in explanation.dropped]
    out = [f"extra: {line[:90]}" for line in sorted(extra, key=len, reverse=True)[:limit]]
    missed = [line for line in page.truth.splitlines()
              if line.strip() and _shingle_share(line, kept) < 0.5]
    for line in sorted(missed, key=len, reverse=True)[:limit]:
        grams = shingles(line)
        rule = next((r for d, r in dropped if grams and _shingle_share(d, grams) >= 0.5),
                    "not extracted")
        out.append(f"missed ({rule}): {line[:80]}")
    return out


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
    parser.add_argument("--no-cv", action="store_true",
                        help="skip the leave-one-site-out cross-validation")
    parser.add_argument("--rules", action="store_true",
                        help="list each rule's effect and the folds that kept it")
    parser.add_argument("--losers", "--show-worst", type=int, default=0, metavar="N",
                        help="list the N held-out pages with the lowest F1 and why")
    args = parser.parse_args(argv)
    pages = load_pages(args.eval_dir)
    cleaner_extractor()("<html><body><p>warm up</p></body></html>", "https://example.com/")
    ours = score(pages, cleaner_extractor())
    _report("newswire Cleaner (dev)", ours)
    if not args.no_baseline:
        _report("trafilatura default", score(pages, trafilatura_default))
    if args.no_cv:
        return 0
    ablation = Ablation(pages)
    cv = cross_validate(ablation)
    print(f"{'cross-validated':<22} P={cv.precision:.4f} R={cv.recall:.4f} F1={cv.f1:.4f}"
          f"  (leave one site out: {cv.folds} folds, {len(pages)} pages)")
    if args.rules:
        print("rules (dF1: dev F1 with the rule minus without it):")
        print("\n".join(rule_effects(ablation, cv)))
    if args.losers:
        by_id = {page.id: page for page in pages}
        ranked = sorted(cv.held_out.items(), key=lambda kv: page_f1(kv[1]))
        for page_id, metric in ranked[: args.losers]:
            page = by_id[page_id]
            off = cv.dropped[site(page)]
            print(f"  {page_id[:16]} {site(page):<26} F1={page_f1(metric):.3f} "
                  f"fp={metric[1]:.3f} fn={metric[2]:.3f}"
                  + (f"  (off: {', '.join(sorted(off))})" if off else ""))
            for reason in why_lost(page, ablation.explain(page, off)):
                print(f"      {reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
