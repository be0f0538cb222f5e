"""Alert latency: article ingested → alert received by a local webhook (signed JSON POST).

Embedded runtime: each article (its own new story, matching the rule) goes through
``EmbeddedRuntime.process`` (clean, tag, cluster, commit, deliver) one at a time; the time
is from the call to the webhook server's receipt of the POST, p50/p95 over the run.
The Kafka figure needs the distributed runtime's worker; it is left out here (a row is
only added when measured).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from evaluation.paths import eval_dir
from pipeline.config import load_settings
from pipeline.models import RawArticle
from pipeline.runtime.embedded import EmbeddedRuntime
from tests.fixtures.servers import WebhookServer

REPO = Path(__file__).resolve().parents[1]
EVAL = eval_dir() / "clustering"


def vocabulary() -> list[str]:
    """Content words of the eval corpus (or made-up words without it)."""
    words: set[str] = set()
    for path in sorted(EVAL.glob("*.jsonl")) if EVAL.exists() else []:
        words |= {w.lower() for w in path.read_text().split() if w.isalpha() and len(w) > 5}
    if len(words) > 2000:
        return sorted(words)
    rng = random.Random(1)
    return ["".join(rng.choice("aeioubdklmnprstv") for _ in range(8)) for _ in range(5000)]


def article(i: int, rng: random.Random, vocab: list[str]) -> RawArticle:
    """Its own story: sentences of random content words, plus the watched word."""
    sentences = [" ".join(rng.sample(vocab, 12)).capitalize() + "." for _ in range(8)]
    sentences.insert(1, f"Officials from the watchwire office commented on report {i}.")
    return RawArticle(url=f"https://bench.example/alert/{i}", source=f"bench{i % 7}",
                      title=f"Watchwire report {i}: {sentences[0][:40]}",
                      text=" ".join(sentences))


async def embedded(n: int = 200) -> dict[str, float]:
    rng, vocab = random.Random(5), vocabulary()
    with tempfile.TemporaryDirectory() as tmp, WebhookServer() as server:
        config = Path(tmp) / "config"
        config.mkdir()
        (config / "topics.yaml").write_text((REPO / "config" / "topics.yaml").read_text())
        (config / "alerts.yaml").write_text(yaml.safe_dump({"rules": [{
            "name": "bench", "query": "watchwire", "secret_env": "BENCH_KEY",
            "channels": [f"webhook:{server.url}/ok"]}]}))
        settings = load_settings(config, env={}, data_dir=Path(tmp) / "data")
        os.environ.setdefault("BENCH_KEY", "bench-secret")  # the webhook is signed, as live
        runtime = EmbeddedRuntime(settings)
        latencies: list[float] = []
        await runtime.process([article(-1, rng, vocab)])  # warm-up: connection, caches
        start = time.perf_counter()
        try:
            for i in range(n):
                before = len(server.received)
                t0 = time.perf_counter()
                await runtime.process([article(i, rng, vocab)])
                got = server.received[before:]
                if got:
                    latencies.append(got[0].at - t0)
        finally:
            await runtime.close()
        elapsed = time.perf_counter() - start
    cuts = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else [0.0] * 19
    return {"done": float(len(latencies)), "seconds": elapsed, "rate": len(latencies) / elapsed,
            "p50_s": statistics.median(latencies) if latencies else 0.0, "p95_s": cuts[18]}


def rows() -> list[tuple[str, dict[str, float]]]:
    return [("alerts: ingested → webhook, embedded", asyncio.run(embedded()))]


if __name__ == "__main__":
    for name, row in rows():
        print(name, {k: round(v, 4) for k, v in row.items()})
