"""Clean-stage throughput against trafilatura alone, on the same pages, in one run.

    python -m benchmarks.extraction [--rounds N]

Both sides run single-process on the 57 development pages of ../shared/eval/extraction
(decoded once, up front), alternating round by round so that machine noise hits both
alike; each side's rate is its best round, in CPU seconds of this process (so that
other work on a shared machine does not skew the ratio). "trafilatura alone" is
``trafilatura.extract`` with its defaults (text only); "clean stage" is ``Stages.clean``
(extraction, metadata, text pass, language, identity). Target: a ratio of at least 0.9.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import time
from collections.abc import Callable

from evaluation.extraction import DEFAULT_EVAL_DIR, Page, load_pages
from pipeline.errors import PoisonInputError
from pipeline.models import RawArticle
from pipeline.processing.stages import Stages

_NO_URL = "https://example.invalid/"


def _trafilatura(pages: list[Page]) -> Callable[[], int]:
    import trafilatura

    def run() -> int:
        for page in pages:
            trafilatura.extract(page.html, url=page.url or None)
        return len(pages)

    return run


def _clean_stage(pages: list[Page]) -> Callable[[], int]:
    stages = Stages([], [], {})
    raws = [RawArticle.model_validate({"url": p.url or _NO_URL, "html": p.html}) for p in pages]

    def run() -> int:
        done = 0
        for raw in raws:
            with contextlib.suppress(PoisonInputError):
                stages.clean(raw)
            done += 1
        return done

    return run


def rows(rounds: int = 5) -> list[tuple[str, dict[str, float]]]:
    """Rows for ``make bench``: trafilatura alone, the clean stage, and their ratio."""
    pages = load_pages(DEFAULT_EVAL_DIR)
    sides = {"trafilatura alone": _trafilatura(pages), "clean stage": _clean_stage(pages)}
    for run in sides.values():  # warm up: imports, lazy tables, caches
        run()
    best = dict.fromkeys(sides, float("inf"))
    done = dict.fromkeys(sides, 0)
    for _ in range(rounds):
        for name, run in sides.items():
            gc.collect()  # neither side pays for the other's garbage
            started = time.process_time()
            done[name] = run()
            best[name] = min(best[name], time.process_time() - started)
    out = [(f"extraction, {name} (57 pages)",
            {"done": float(done[name]), "seconds": best[name], "rate": done[name] / best[name]})
           for name in sides]
    traf, clean = out[0][1], out[1][1]
    out.append(("extraction, clean stage / trafilatura",
                {**clean, "ratio": clean["rate"] / traf["rate"]}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"{'case':44} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'ratio':>6}")
    for name, r in rows(args.rounds):
        ratio = f"{r['ratio']:>6.3f}" if "ratio" in r else ""
        print(f"{name:44} {int(r['done']):>6} {r['seconds']:>8.3f} {r['rate']:>8.1f} {ratio}")


if __name__ == "__main__":
    main()
