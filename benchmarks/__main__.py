"""``make bench``: throughput and peak memory of the pipeline, printed as a table.

Each case runs in its own subprocess (fresh data dir, fresh peak-memory counter) and
pushes real articles from ../shared/eval through the same path as ``newswire ingest``:
  text   the clustering articles (plain text with site boilerplate), ~2,800 articles
  html   the extraction pages (real news HTML), repeated under distinct URLs
Extra cases (Kafka + Elasticsearch) are added by benchmarks/distributed.py when present;
story clustering at 10 k / 100 k / 1 M articles of history by benchmarks/clustering.py
(NEWSWIRE_BENCH_CLUSTER_SIZES=10000,100000 for a shorter run); story assignment alone on
one core by benchmarks/assignment.py.

CPU, not wall time, is the figure to compare (the machine may be shared): each case reports
``cpu_ms`` per article in the ingesting process and ``pool_cpu_ms`` in its cleaning pool.
The text case also indexes the same texts with SQLite FTS5 alone (benchmarks/fts5.py) in
the same process first: its row is that anchor, and ``fts5_x`` is the ingest's total CPU
(process + pool) as a multiple of it.
"""

from __future__ import annotations

import gzip
import importlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evaluation.paths import eval_dir

REPO = Path(__file__).resolve().parents[1]
# Modules whose rows() -> [(name, figures)] join the table when present.
EXTRA = ("rules", "extraction", "distributed", "feeds", "search", "alerts", "assignment",
         "clustering")
EVAL = eval_dir()


def text_archive(path: Path) -> int:
    count = 0
    with path.open("w") as out:
        for name in ("gva_incidents.jsonl", "ecbplus.jsonl"):
            for line in (EVAL / "clustering" / name).read_text().splitlines():
                rec = json.loads(line)
                out.write(json.dumps({
                    "url": f"https://bench.example/{rec['id']}", "title": rec["title"],
                    "text": rec["text"], "published": rec.get("published"),
                    "source": rec.get("source") or "bench"}) + "\n")
                count += 1
    return count


def short_archive(path: Path) -> int:
    """Short wire items (~400 characters): newswire's own fictional corpus."""
    sys.path.insert(0, str(REPO))
    from tests.fixtures.corpus import corpus

    records = corpus(n_events=1000)
    with path.open("w") as out:
        for rec in records:
            out.write(json.dumps({k: v for k, v in rec.items() if k != "event"}) + "\n")
    return len(records)


def html_archive(path: Path, copies: int = 5) -> int:
    truth = json.loads((EVAL / "extraction" / "ground-truth.json").read_text())
    count = 0
    with path.open("w") as out:
        for copy in range(copies):
            for page_id, meta in truth.items():
                raw = gzip.decompress((EVAL / "extraction" / "html" / f"{page_id}.html.gz")
                                      .read_bytes()).decode("utf-8", errors="replace")
                out.write(json.dumps({"url": f"{meta['url']}?copy={copy}", "html": raw}) + "\n")
                count += 1
    return count


def run_case(kind: str) -> dict[str, float]:
    """Child process: ingest one archive in-process, report rate and peak RSS."""
    import asyncio

    from pipeline.config.settings import load_settings
    from pipeline.runtime.embedded import EmbeddedRuntime
    from pipeline.sources.archive import read_archive

    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "in.jsonl"
        builders = {"text": text_archive, "short": short_archive, "html": html_archive}
        n = builders[kind](archive)
        settings = load_settings(REPO / "config", env={}, data_dir=Path(tmp) / "data")
        raws = [r for _, r in read_archive(archive) if not hasattr(r, "reason")]
        anchor = 0.0
        if kind == "text":
            from benchmarks.fts5 import index_cpu

            anchor = index_cpu([(r.title or "", r.text or "") for r in raws])

        async def go() -> int:
            runtime = EmbeddedRuntime(settings)
            try:
                stats = await runtime.process(raws)
            finally:
                await runtime.close()
            return stats.processed + stats.dead

        children = _children_cpu()
        start, cpu = time.perf_counter(), time.process_time()
        done = asyncio.run(go())
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        pool = _children_cpu() - children  # the pool's workers, reaped at close
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out = {"articles": n, "done": done, "seconds": elapsed, "rate": done / elapsed,
           "peak_mb": peak_self, "peak_worker_mb": peak_children,
           "cpu_ms": 1000 * cpu / done, "pool_cpu_ms": 1000 * pool / done}
    if anchor:
        out |= {"fts5_cpu_s": anchor, "fts5_x": (cpu + pool) / anchor}
    return out


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def fts5_row(text_case: dict[str, float]) -> tuple[str, dict[str, float]]:
    """The FTS5 anchor measured inside the text case, as a row of its own."""
    cpu, n = text_case["fts5_cpu_s"], text_case["articles"]
    return ("SQLite FTS5 alone, same texts (CPU anchor)",
            {"done": n, "seconds": cpu, "rate": n / cpu, "cpu_ms": 1000 * cpu / n})


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--case":
        print(json.dumps(run_case(sys.argv[2])))
        return
    if len(sys.argv) > 2 and sys.argv[1] == "--rows":
        extra = importlib.import_module(f"benchmarks.{sys.argv[2]}")
        print(json.dumps(extra.rows()))
        return
    if not EVAL.exists():
        sys.exit(f"benchmark data not found at {EVAL}")
    rows = []
    for kind in ("text", "short", "html"):
        proc = subprocess.run([sys.executable, "-m", "benchmarks", "--case", kind],
                              capture_output=True, text=True, cwd=REPO, env=os.environ)
        if proc.returncode != 0:
            sys.exit(f"benchmark {kind} failed:\n{proc.stderr}")
        label = {"text": "text articles (eval, ~1,750 chars)",
                 "short": "short text items (~400 chars)", "html": "HTML pages (eval)"}[kind]
        rows.append((f"embedded ingest, {label}", json.loads(proc.stdout.splitlines()[-1])))
        if kind == "text":
            rows.append(fts5_row(rows[-1][1]))
    for module in EXTRA:
        if not (REPO / "benchmarks" / f"{module}.py").exists():
            continue
        proc = subprocess.run([sys.executable, "-m", "benchmarks", "--rows", module],
                              capture_output=True, text=True, cwd=REPO)
        if proc.returncode != 0:
            print(f"(benchmark {module} failed: {proc.stderr.strip()[-400:]})")
            continue
        rows += [(name, row) for name, row in json.loads(proc.stdout.splitlines()[-1])]
    main_keys = {"articles", "done", "seconds", "rate", "peak_mb", "peak_worker_mb"}
    print(f"| {'case':44} | {'items':>7} | {'seconds':>8} | {'items/s':>8} | {'peak MB':>8} "
          f"| {'pool MB':>8} | other |")
    print(f"|{'-' * 46}|{'-' * 9}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 10}|-------|")
    for name, r in rows:
        other = ", ".join(f"{k} {v:.3g}" for k, v in r.items() if k not in main_keys)
        if "done" not in r:  # a row of ratios between other rows (no run of its own)
            print(f"| {name:44} | {'':>7} | {'':>8} | {'':>8} | {'':>8} | {'':>8} | {other} |")
            continue
        print(f"| {name:44} | {int(r['done']):>7} | {r['seconds']:>8.2f} | {r['rate']:>8.1f} "
              f"| {r.get('peak_mb', 0):>8.0f} | {r.get('peak_worker_mb', 0):>8.0f} | {other} |")


if __name__ == "__main__":
    main()
