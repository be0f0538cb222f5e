"""Fit the story decision's logistic weights on the dev sets; choose its threshold by CV.

    python -m evaluation.fit_story_model [--cv] [--write] [--folds 5]

Training pairs come from an *oracle* stream: each dev set (GVA in published order, ECB+
undated and shuffled) goes through the clusterer, every article is compared with the
candidate stories it retrieves (``decision.py`` features), labelled 1 for the story of
its gold event, and then put where the gold says, so the stories compared with are the
true ones. A logistic model (L2, Newton's method; each dataset weighs the same) is fitted
on the pairs.

``--cv``: group k-fold over ECB+ topics (a topic's two events stay together) and GVA
incidents. Per fold: fit on the other folds, choose the threshold that scores best on
those folds (mean pairwise F1 of the two sets, minus half the missed-new-event share),
then stream the held-out fold alone and score it. The shipped threshold is the median of
the folds' choices; the weights are fitted on all of dev. ``--write`` writes
``pipeline/processing/cluster/model.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from evaluation.clustering import DEFAULT_EVAL_DIR, WINDOW, Scores, articles, dataset, folds, stream
from pipeline.models import Article
from pipeline.processing.cluster.clusterer import ClusterSettings, StoryClusterer
from pipeline.processing.cluster.decision import FEATURES, MODEL_PATH, Match, Model

SETS = ("gva_incidents", "ecbplus")
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
MERGE = 0.9
L2 = 1.0
Data = dict[str, tuple[list[Article], list[str], list[str]]]  # set → items, gold, groups


class OracleClusterer(StoryClusterer):
    """Puts each article in its gold story (when retrieved) and records the comparisons."""

    def __init__(self) -> None:
        super().__init__({}, window=WINDOW)
        self.gold = ""
        self.label: dict[str, str] = {}  # story → gold event
        self.pairs: list[tuple[dict[str, float], int]] = []

    def _decide(self, matches: dict[str, Match]) -> tuple[str | None, list[str]]:
        chosen = None
        for story, match in sorted(matches.items()):
            hit = self.label.get(story) == self.gold
            self.pairs.append((match.features, int(hit)))
            chosen = story if hit else chosen
        return chosen, []

    def run(self, items: Sequence[Article], gold: Sequence[str]) -> None:
        for article, label in zip(items, gold, strict=True):
            self.gold = label
            self.label[self.assign(article, []).story.id] = label


def pairs(items: Sequence[Article], gold: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    oracle = OracleClusterer()
    oracle.run(items, gold)
    x = np.array([[f.get(k, 0.0) for k in FEATURES] for f, _ in oracle.pairs], dtype=float)
    return x.reshape(-1, len(FEATURES)), np.array([y for _, y in oracle.pairs], dtype=float)


def fit(parts: list[tuple[np.ndarray, np.ndarray]], l2: float = L2) -> Model:
    """Logistic regression by Newton's method; each part (dataset) weighs the same."""
    x = np.vstack([np.hstack([p[0], np.ones((len(p[0]), 1))]) for p in parts])
    y = np.concatenate([p[1] for p in parts])
    w = np.concatenate([np.full(len(p[1]), len(y) / (len(parts) * len(p[1]))) for p in parts])
    beta = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -30, 30)))
        grad = x.T @ (w * (p - y)) + penalty * beta
        hess = (x * (w * p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    weights = {f: round(float(b), 4) for f, b in zip(FEATURES, beta[:-1], strict=True)}
    return Model(weights, round(float(beta[-1]), 4), 0.5, MERGE)


def scored(model: Model, items: list[Article], gold: list[str]) -> Scores:
    settings = ClusterSettings(model=model)
    return stream(items, lambda: StoryClusterer({}, window=WINDOW, settings=settings)).scores(gold)


def objective(results: Sequence[Scores]) -> float:
    return statistics.fmean(s.f1 - 0.5 * s.missed for s in results)


def load() -> Data:
    out: Data = {}
    for name in SETS:
        rows = dataset(DEFAULT_EVAL_DIR, name)
        groups = [str(r.get("topic") or r["story"]) for r in rows]
        out[name] = (articles(rows), [r["story"] for r in rows], groups)
    return out


def subset(data: Data, name: str, keep: set[str]) -> tuple[list[Article], list[str]]:
    items, gold, groups = data[name]
    picked = [i for i, g in enumerate(groups) if g in keep]
    return [items[i] for i in picked], [gold[i] for i in picked]


def fold_groups(data: Data, name: str, k: int) -> list[set[str]]:
    rows = [{"story": g} for g in data[name][2]]
    return [{str(r["story"]) for r in part} for part in folds(rows, k)]


def cross_validate(data: Data, k: int) -> tuple[list[float], list[dict[str, Any]]]:
    chosen, report = [], []
    splits = {name: fold_groups(data, name, k) for name in SETS}
    for i in range(k):
        train = {n: set().union(*(g for j, g in enumerate(splits[n]) if j != i)) for n in SETS}
        train_sets = {n: subset(data, n, train[n]) for n in SETS}
        model = fit([pairs(*train_sets[n]) for n in SETS])
        best = max(THRESHOLDS, key=lambda t: objective(
            [scored(replace(model, threshold=t), *train_sets[n]) for n in SETS]))
        chosen.append(best)
        row: dict[str, Any] = {"fold": i, "threshold": best}
        for n in SETS:
            s = scored(replace(model, threshold=best), *subset(data, n, splits[n][i]))
            row[n] = s
        report.append(row)
        print(_fold_line(row), flush=True)
    return chosen, report


def _fold_line(row: dict[str, Any]) -> str:
    parts = [f"fold {row['fold']} threshold {row['threshold']:.2f}"]
    for n in SETS:
        s: Scores = row[n]
        parts.append(f"{n} F1 {s.f1:.3f} (P {s.precision:.3f} R {s.recall:.3f}) "
                     f"B3 {s.bcubed_f1:.3f} missed {100 * s.missed:.1f} % extra {s.extra:.2f}")
    return "  ".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cv", action="store_true", help="cross-validate the threshold")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--write", action="store_true", help=f"write {MODEL_PATH.name}")
    args = parser.parse_args(argv)
    data = load()
    threshold: float = 0.5
    cv: Any = None
    if args.cv:
        chosen, report = cross_validate(data, args.folds)
        threshold = statistics.median(chosen)
        cv = {n: {m: round(statistics.fmean(getattr(r[n], m) for r in report), 4)
                  for m in ("precision", "recall", "f1", "bcubed_f1", "missed", "extra")}
              for n in SETS}
        print("CV mean", json.dumps(cv), "threshold", threshold)
    model = replace(fit([pairs(*data[n][:2]) for n in SETS]), threshold=threshold)
    print("weights", json.dumps(model.weights), "bias", model.bias)
    if args.write:
        out = {"weights": model.weights, "bias": model.bias, "threshold": threshold,
               "merge": model.merge, "features": list(FEATURES), "cv": cv,
               "fitted_on": list(SETS), "by": "evaluation/fit_story_model.py"}
        MODEL_PATH.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
