"""Kafka + Elasticsearch rows of ``make bench``: articles/s and raw → searchable / alert latency.

Against the real servers (``scripts/services start``), under its own topic and index prefix,
with its own worker processes (``newswire worker --role ...``), cleaned up afterwards:

  burst   every article of the clustering eval set (~2,800 real texts; the fictional corpus
          without ../shared) produced at once: throughput = articles / (last searchable −
          first produced); its latencies include the queue the burst builds
  paced   fictional articles (tests/fixtures/corpus.py) produced at a steady rate below
          the measured throughput: the pipeline's own latency

Before the setups, one unrecorded burst warms the servers' JVMs (``warm_servers``).
Latency = first poll (refresh + search, every ``POLL`` s) that sees the article (or its
alert in the alert log) − when the producer sent it; a resolution of ``POLL``.
Rows: ``done``, ``seconds``, ``rate``, ``p50/p95_searchable_s``, ``p50/p95_alert_s``; the
burst rows also give each worker role's CPU per article (``cpu_ms_<role>``, user + system
time of its process over the burst) and, with a stateful and a stateless worker,
``serial_per_parallel``: the stateful worker's (story agent: the serial part) CPU per
article over the stateless one's (clean, analyse, index: the part that scales out with
partitions and processes). At 0.25 one story agent can feed four cores of stateless workers.

Each burst row also scores the stories Elasticsearch holds for the burst against the eval
set's gold stories (``f1`` pairwise, ``bcubed_f1``; evaluation.clustering.score). The same
single worker runs once more with one partition (``NEWSWIRE_KAFKA_PARTITIONS=1``) where the
others run with the default four; the ``kafka+es scale-out`` row compares them: ``f1_diff``
(4 partitions − 1: parallel cleaning must not change the stories) and ``workers_speedup``
(burst rate with a stateful and a stateless worker over one worker's).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from evaluation.paths import eval_dir

REPO = Path(__file__).resolve().parents[1]
EVAL = eval_dir() / "clustering"
KAFKA = os.environ.get("NEWSWIRE_KAFKA", "127.0.0.1:9092")
ELASTICSEARCH = os.environ.get("NEWSWIRE_ELASTICSEARCH", "http://127.0.0.1:9200")
POLL = 0.2
RULES = """rules:
  - name: bench-watch
    query: >-
      topic:natural-disasters OR topic:elections OR topic:trade OR topic:courts-justice
      OR topic:terrorism
    channels: ["jsonl:alerts.jsonl"]
"""
# name → (worker roles, partitions of the raw and enriched topics)
SETUPS = {"1 worker (all)": (["all"], 4), "stateful + stateless": (["stateful", "stateless"], 4),
          "1 worker (all), 1 partition": (["all"], 1)}
Row = tuple[str, dict[str, float]]


def servers_problem() -> str | None:
    import socket

    from elasticsearch import Elasticsearch

    host, _, port = KAFKA.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as exc:
        return f"Kafka not reachable at {KAFKA}: {exc}"
    client = Elasticsearch(ELASTICSEARCH, request_timeout=5)
    try:
        client.cluster.health(timeout="5s")
    except Exception as exc:  # noqa: BLE001 - any failure means not usable
        return f"Elasticsearch not reachable at {ELASTICSEARCH}: {exc!r}"
    finally:
        client.close()
    return None


def cleanable(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Only what becomes an article (poison goes to the dead topic, never searchable)."""
    from pipeline.errors import PoisonInputError
    from pipeline.models import RawArticle
    from pipeline.processing.clean.cleaner import Cleaner

    cleaner, out = Cleaner(), []
    for rec in records:
        try:
            cleaner.clean(RawArticle.model_validate(gold([rec])[0][0]))
        except PoisonInputError:
            continue
        out.append(rec)
    return out


def real_articles() -> list[dict[str, Any]]:
    """The clustering eval set as raw records (dated ones in published order), each with its
    gold ``story`` (``gold`` strips it off before the record is sent)."""
    from evaluation.clustering import load

    records = []
    for name in ("gva_incidents.jsonl", "ecbplus.jsonl"):
        for rec in load(EVAL / name):  # in published order, as the clustering eval streams it
            records.append({"url": f"https://bench.example/{rec['id']}", "title": rec["title"],
                            "text": rec["text"], "published": rec.get("published"),
                            "source": rec.get("source") or "bench", "story": rec["story"]})
    return records


def gold(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The records without their gold story, and the gold story of each article id."""
    from pipeline.models import RawArticle
    from pipeline.runtime.embedded import raw_id

    plain = [{k: v for k, v in r.items() if k not in ("story", "event")} for r in records]
    labels = {raw_id(RawArticle.model_validate(p)): str(r.get("story") or r.get("event"))
              for p, r in zip(plain, records, strict=True)}
    return plain, labels


def fictional(n: int, seed: int) -> list[dict[str, Any]]:
    sys.path.insert(0, str(REPO))
    from tests.fixtures.corpus import corpus

    out = []
    for rec in corpus(n // 3 + 10, seed=seed):  # keeps its gold ``event`` (see ``gold``)
        rec["url"] = rec["url"].replace(".example/", f".example/s{seed}/")
        out.append(rec)
    return out[:n]


class Bench:
    """One setup: config, prefix, worker processes, producer and the ES poller."""

    def __init__(self, tmp: Path, roles: list[str], partitions: int = 4) -> None:
        from pipeline.config.settings import load_settings

        self.prefix = "nwbench-" + uuid.uuid4().hex[:8]
        config = tmp / "config"
        config.mkdir()
        shutil.copy(REPO / "config" / "topics.yaml", config / "topics.yaml")
        (config / "alerts.yaml").write_text(RULES)
        self.settings = load_settings(config, env={}, data_dir=tmp / "data", kafka=KAFKA,
                                      elasticsearch=ELASTICSEARCH, topic_prefix=self.prefix,
                                      index_prefix=self.prefix, kafka_partitions=partitions)
        env = {**os.environ, "NEWSWIRE_KAFKA": KAFKA, "NEWSWIRE_ELASTICSEARCH": ELASTICSEARCH,
               "NEWSWIRE_TOPIC_PREFIX": self.prefix, "NEWSWIRE_INDEX_PREFIX": self.prefix,
               "NEWSWIRE_KAFKA_PARTITIONS": str(partitions)}
        env.pop("NEWSWIRE_BACKEND", None)
        self.log = (tmp / "workers.log").open("wb")
        self.roles = roles
        self.workers = [subprocess.Popen(
            [sys.executable, "-m", "pipeline", "--config", str(config), "--data-dir",
             str(tmp / "data"), "worker", "--role", role],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT) for role in roles]
        self.sent: dict[str, float] = {}
        self.visible: dict[str, float] = {}
        self.alerted: dict[str, float] = {}

    def close(self) -> None:
        from elasticsearch import Elasticsearch

        from pipeline.storage.elasticsearch.store import IndexNames, drop
        for proc in self.workers:
            proc.terminate()
        for proc in self.workers:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        client = Elasticsearch(ELASTICSEARCH)
        drop(client, IndexNames(self.prefix))
        client.close()
        asyncio.run(self._delete_topics())

    async def _delete_topics(self) -> None:
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
        await admin.start()
        try:
            mine = [t for t in await admin.list_topics() if t.startswith(self.prefix)]
            if mine:
                await admin.delete_topics(mine)
        finally:
            await admin.close()

    async def run(self, records: list[dict[str, Any]], rate: float | None,
                  timeout: float = 600) -> None:
        """Produce ``records`` (at ``rate``/s, or at once) while polling ES until all show."""
        from pipeline.models import RawArticle
        from pipeline.runtime.embedded import raw_id
        from pipeline.runtime.kafka.admin import stream_config
        from pipeline.runtime.kafka.poller import RawProducer

        raws = [RawArticle.model_validate(r) for r in gold(records)[0]]
        ids = {raw_id(r) for r in raws}
        poller = asyncio.create_task(self._poll(ids, timeout))
        async with RawProducer(stream_config(self.settings)) as producer:
            start = time.monotonic()
            step = 50 if rate else len(raws)
            for i in range(0, len(raws), step):
                if rate:
                    await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                chunk = raws[i:i + step]
                now = time.monotonic()
                self.sent.update({raw_id(r): now for r in chunk})
                await producer.send(chunk)
        await poller

    async def _poll(self, ids: set[str], timeout: float) -> None:
        from elasticsearch import AsyncElasticsearch

        from pipeline.storage.elasticsearch.store import IndexNames
        names = IndexNames(self.prefix)
        client = AsyncElasticsearch(ELASTICSEARCH, request_timeout=30)
        deadline = time.monotonic() + timeout
        try:
            while not ids <= self.visible.keys():
                if time.monotonic() > deadline or any(p.poll() is not None for p in self.workers):
                    raise SystemExit(f"benchmark stalled: {len(ids - self.visible.keys())} "
                                     f"of {len(ids)} not searchable (see worker logs)")
                await asyncio.sleep(POLL)
                await client.indices.refresh(index=f"{names.articles},{names.alerts}",
                                             ignore_unavailable=True)
                now = time.monotonic()
                hits = await client.search(index=names.articles, size=10_000, source=False,
                                           query={"match_all": {}}, ignore_unavailable=True)
                for hit in hits["hits"]["hits"]:
                    self.visible.setdefault(hit["_id"], now)
                alerts = await client.search(index=names.alerts, size=10_000,
                                             source_includes=["article_id"],
                                             query={"match_all": {}}, ignore_unavailable=True)
                for hit in alerts["hits"]["hits"]:
                    self.alerted.setdefault(hit["_source"]["article_id"], now)
            await asyncio.sleep(2)  # alerts trail the articles by a hop
        finally:
            await client.close()

    def stories(self, labels: dict[str, str]) -> dict[str, float]:
        """Pairwise and B-cubed F1 of the stories Elasticsearch holds for ``labels``' articles."""
        from evaluation.clustering import score
        from pipeline.storage.elasticsearch.store import ElasticsearchStore
        store = ElasticsearchStore.connect(ELASTICSEARCH, self.prefix)
        try:
            store.refresh()
            found = store.story_ids()
        finally:
            store.close()

        ids = sorted(labels)
        scores = score([found.get(i, f"missing:{i}") for i in ids],
                       [labels[i] for i in ids])
        return {"f1": scores.f1, "bcubed_f1": scores.bcubed_f1}

    def cpu(self) -> dict[str, float]:
        """CPU seconds (user + system) used so far by each worker role's process."""
        ticks = os.sysconf("SC_CLK_TCK")
        out: dict[str, float] = {}
        for role, proc in zip(self.roles, self.workers, strict=True):
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[role] = out.get(role, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
        return out

    def figures(self, ids: set[str]) -> dict[str, float]:
        first = min(self.sent[i] for i in ids)
        last = max(self.visible[i] for i in ids)
        seen = [self.visible[i] - self.sent[i] for i in ids]
        alerts = [self.alerted[i] - self.sent[i] for i in ids if i in self.alerted]
        return {"done": len(ids), "seconds": last - first, "rate": len(ids) / (last - first),
                **_quantiles("searchable", seen), **_quantiles("alert", alerts)}


def _quantiles(what: str, values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {f"p50_{what}_s": values[0] if values else float("nan"),
                f"p95_{what}_s": values[0] if values else float("nan")}
    cuts = statistics.quantiles(values, n=20)
    return {f"p50_{what}_s": statistics.median(values), f"p95_{what}_s": cuts[18]}


@contextmanager
def bench(roles: list[str], partitions: int = 4) -> Iterator[Bench]:
    with tempfile.TemporaryDirectory(prefix="nwbench") as tmp:
        b = Bench(Path(tmp), roles, partitions)
        try:
            yield b
        except BaseException:
            b.log.flush()
            sys.stderr.write((Path(tmp) / "workers.log").read_text(errors="replace")[-3000:])
            raise
        finally:
            b.close()


def measure(name: str, roles: list[str], burst: list[dict[str, Any]],
            partitions: int = 4) -> list[Row]:
    def ids(records: list[dict[str, Any]]) -> set[str]:
        return set(gold(records)[1])

    with bench(roles, partitions) as b:
        warm = fictional(30, seed=1)
        asyncio.run(b.run(warm, None, timeout=180))  # workers up, groups joined
        before = b.cpu()
        asyncio.run(b.run(burst, None))
        used = {role: seconds - before[role] for role, seconds in b.cpu().items()}
        figures = b.figures(ids(burst))
        figures.update({f"cpu_ms_{role}": 1000 * seconds / len(burst)
                        for role, seconds in used.items()})
        if used.get("stateless"):
            figures["serial_per_parallel"] = used.get("stateful", 0.0) / used["stateless"]
        figures.update(b.stories(gold(burst)[1]))
        rows = [(f"kafka+es {name}, burst", figures)]
        rate = max(20.0, min(300.0, 0.5 * rows[0][1]["rate"]))
        paced = fictional(int(rate * 8), seed=2)
        asyncio.run(b.run(paced, rate))
        figures = b.figures(ids(paced))
        rows.append((f"kafka+es {name}, paced {rate:.0f}/s", figures))
    return rows


def scale_out(rows: list[Row]) -> Row:
    """More workers, more throughput; more partitions, the same stories."""
    burst = {name: figures for name, figures in rows if name.endswith(", burst")}
    one, two = (burst["kafka+es 1 worker (all), burst"],
                burst["kafka+es stateful + stateless, burst"])
    single = burst["kafka+es 1 worker (all), 1 partition, burst"]
    return ("kafka+es scale-out", {"workers_speedup": two["rate"] / one["rate"],
                                   "f1_4_partitions": one["f1"], "f1_1_partition": single["f1"],
                                   "f1_diff": one["f1"] - single["f1"],
                                   "bcubed_f1_diff": one["bcubed_f1"] - single["bcubed_f1"]})


def warm_servers(burst: list[dict[str, Any]]) -> None:
    """One unrecorded burst first: on JVMs that have not compiled their hot paths yet the
    first setup ran ~12 % slower (140 against 157 articles/s, the same worker CPU), which
    made ``workers_speedup`` look better than it is."""
    with bench(["all"]) as b:
        asyncio.run(b.run(burst, None))


def rows() -> list[Row]:
    problem = servers_problem()
    if problem:
        raise SystemExit(f"distributed benchmark skipped: {problem} -- start the servers "
                         "with `scripts/services start`")
    burst = cleanable(real_articles() if EVAL.exists() else fictional(3000, seed=3))
    warm_servers(burst)
    out: list[Row] = []
    for name, (roles, partitions) in SETUPS.items():
        out += measure(name, roles, burst, partitions)
    return [*out, scale_out(out)]


if __name__ == "__main__":
    for row_name, row in rows():
        print(row_name, json.dumps({k: round(v, 3) for k, v in row.items()}))
