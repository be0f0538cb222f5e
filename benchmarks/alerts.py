"""Alert latency: article ingested → alert received by a local webhook (signed JSON POST).

Embedded runtime: each article (its own new story, matching the rule) goes through
``EmbeddedRuntime.process`` (clean, tag, cluster, commit, deliver) one at a time; the time
is from the call to the webhook server's receipt of the POST, p50/p95 over the run.

Kafka runtime: a real ``newswire worker`` subprocess (role ``all``, its own topic and index
prefix, ``benchmarks.distributed.bench``) against the real broker and Elasticsearch; the
articles (each its own new story matching the rule) are produced to ``<prefix>.raw`` one
every ``KAFKA_PACE`` seconds; the time is from just before the produce call to the
webhook server's receipt of the signed POST. ``done`` counts the alerts received with a
valid signature, ``expected`` the articles sent; ``duplicates`` and ``bad_signature``
should be 0. Needs ``scripts/services start``; without the servers the row is left out
(the reason goes to stderr).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from unittest import mock

import yaml

from evaluation.paths import eval_dir
from pipeline.config.settings import load_settings
from pipeline.models import RawArticle
from pipeline.runtime.embedded import EmbeddedRuntime
from tests.fixtures.servers import WebhookServer

REPO = Path(__file__).resolve().parents[1]
EVAL = eval_dir() / "clustering"
KAFKA_ARTICLES = int(os.environ.get("NEWSWIRE_BENCH_ALERT_ARTICLES", "120"))
KAFKA_PACE = 0.3  # seconds between two produced articles
SECRET_ENV = "BENCH_KEY"


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
    """Its own story: sentences of random content words, one with the watched word.

    Nothing else is shared between articles (a shared sentence or title pattern made a few
    of them, early in a run, join one story: fewer alerts than articles)."""
    sentences = [" ".join(rng.sample(vocab, 12)).capitalize() + "." for _ in range(8)]
    sentences[1] = sentences[1][:-1] + ", the watchwire desk noted."
    return RawArticle(url=f"https://bench.example/alert/{i}", source=f"bench{i % 7}",
                      title=sentences[0][:60], text=" ".join(sentences))


async def embedded(n: int = 200) -> dict[str, float]:
    rng, vocab = random.Random(5), vocabulary()
    with tempfile.TemporaryDirectory() as tmp, WebhookServer() as server:
        config = Path(tmp) / "config"
        config.mkdir()
        (config / "topics.yaml").write_text((REPO / "config" / "topics.yaml").read_text())
        (config / "alerts.yaml").write_text(yaml.safe_dump({"rules": [{
            "name": "bench", "query": "watchwire", "secret_env": "BENCH_KEY",
            "channels": [f"webhook:{server.url}/ok"]}]}))
        # the webhook is signed, as live: secrets are read when the settings load
        settings = load_settings(config, env={"BENCH_KEY": "bench-secret"},
                                 data_dir=Path(tmp) / "data")
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
    return {"done": float(len(latencies)), "expected": float(n), "seconds": elapsed,
            "rate": len(latencies) / elapsed, **quantiles(latencies)}


def quantiles(latencies: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else [0.0] * 19
    return {"p50_s": statistics.median(latencies) if latencies else float("nan"),
            "p95_s": cuts[18] if latencies else float("nan")}


def kafka_rules(url: str) -> str:
    return yaml.safe_dump({"rules": [{"name": "bench", "query": "watchwire",
                                      "secret_env": SECRET_ENV,
                                      "channels": [f"webhook:{url}/ok"]}]})


def kafka(n: int = KAFKA_ARTICLES, pace: float = KAFKA_PACE) -> dict[str, float]:
    """Paced articles through a real worker subprocess; produce → signed webhook receipt."""
    from benchmarks import distributed
    from pipeline.notify.webhook import SIGNATURE_HEADER, verify
    from pipeline.runtime.embedded import raw_id
    from pipeline.runtime.kafka.admin import stream_config
    from pipeline.runtime.kafka.poller import RawProducer

    rng, vocab = random.Random(6), vocabulary()
    secret = os.environ.setdefault(SECRET_ENV, "bench-secret")  # the worker inherits it
    warm, *raws = [article(10_000 + i, rng, vocab) for i in range(n + 1)]
    sent: dict[str, float] = {}

    def arrived(ids: set[str]) -> set[str]:
        return {json.loads(r.body)["article_id"] for r in server.bodies("/ok")} & ids

    # distributed.Bench writes its module-level RULES as the worker's alerts.yaml: ours here.
    with WebhookServer() as server, \
            mock.patch.object(distributed, "RULES", kafka_rules(server.url)), \
            distributed.bench(["all"]) as b:
        worker = b.workers[0]

        async def wait(ids: set[str], timeout: float) -> None:
            deadline = time.monotonic() + timeout
            while not ids <= arrived(ids) and time.monotonic() < deadline:
                if worker.poll() is not None:
                    raise SystemExit(f"kafka alert benchmark: worker exited ({worker.returncode})")
                await asyncio.sleep(0.1)

        async def go() -> float:
            async with RawProducer(stream_config(b.settings)) as producer:
                await producer.send([warm])  # worker up, group joined, connections open
                await wait({raw_id(warm)}, 240)
                if not arrived({raw_id(warm)}):
                    raise SystemExit("kafka alert benchmark: the warm-up alert never arrived")
                start = time.perf_counter()
                for i, raw in enumerate(raws):
                    await asyncio.sleep(max(0.0, start + i * pace - time.perf_counter()))
                    sent[raw_id(raw)] = time.perf_counter()
                    await producer.send([raw])
            await wait(set(sent), 60)
            return start

        start = asyncio.run(go())
        got = [r for r in server.bodies("/ok") if json.loads(r.body)["article_id"] in sent]
    good = [r for r in got if verify(secret, r.body, r.headers.get(SIGNATURE_HEADER, ""))]
    first: dict[str, float] = {}
    for r in good:
        first.setdefault(json.loads(r.body)["article_id"], r.at)
    latencies = [at - sent[i] for i, at in first.items()]
    elapsed = max(first.values(), default=start) - start
    repeats = sum(c - 1 for c in Counter(r.delivery for r in got).values())
    return {"done": float(len(first)), "expected": float(len(sent)), "seconds": elapsed,
            "rate": len(first) / elapsed if elapsed else 0.0, **quantiles(latencies),
            "duplicates": float(repeats), "bad_signature": float(len(got) - len(good))}


def rows() -> list[tuple[str, dict[str, float]]]:
    from benchmarks.distributed import servers_problem

    out = [("alerts: ingested → webhook, embedded", asyncio.run(embedded()))]
    problem = servers_problem()
    if problem:
        print(f"kafka alert latency not measured: {problem} -- start the servers with "
              "`scripts/services start`", file=sys.stderr)
    else:
        out.append(("alerts: produced → webhook, kafka worker", kafka()))
    return out


if __name__ == "__main__":
    for name, row in rows():
        print(name, {k: round(v, 4) for k, v in row.items()})
