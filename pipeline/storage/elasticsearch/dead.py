"""The Kafka backend's dead letters, queryable: the index ``<prefix>-dead``.

    agents, poller ──▶ <prefix>.dead (Kafka, the durable record)
                          └──worker's dead agent──▶ <prefix>-dead (ES, doc id = letter key)
    newswire dead-letters [replay|purge], /dead-letters ──▶ DeadLetterIndex

One document per letter key (``storage.dead.letter_key``): a letter that fails again
(a replay) replaces its document with the new reason. The index is created with an
explicit mapping (``MAPPING``; ``dynamic: false``, so the payload is kept in ``_source``
but not indexed) by whichever side touches it first. Purge deletes by scan and bulk
delete: the integration-test distribution has no ``_delete_by_query`` (reindex module).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from elasticsearch import (
    ApiError,
    AsyncElasticsearch,
    ConnectionError,
    ConnectionTimeout,
    Elasticsearch,
    NotFoundError,
    helpers,
)

from pipeline.models import DeadLetter
from pipeline.storage.dead import DeadRow, letter_key, preview, reason_class

logger = logging.getLogger(__name__)

MAPPING: dict[str, Any] = {
    "_meta": {"description": "newswire dead letters: one document per letter key; the "
                             "payload is kept in _source only.", "version": 1},
    "dynamic": False,
    "properties": {
        "key": {"type": "keyword"},
        "stage": {"type": "keyword"},
        "error": {"type": "text", "analyzer": "standard"},
        "reason": {"type": "keyword"},  # the short class (oversized, paywall, InvalidInput)
        "at": {"type": "date"},
        "source": {"type": "keyword", "ignore_above": 2048},
        "preview": {"type": "keyword", "index": False, "doc_values": False},
    },
}
SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s"}
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def iso(moment: datetime) -> str:
    """UTC with Z, as every JSON output (naive times taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def index_name(prefix: str) -> str:
    return f"{prefix}-dead"


def dead_doc(key: str, letter: DeadLetter) -> dict[str, Any]:
    return {"key": key, "stage": letter.stage, "error": letter.error,
            "reason": reason_class(letter.error), "at": iso(letter.at),
            "source": letter.origin(), "preview": preview(letter.payload),
            "payload": letter.payload}


def _letter(doc: dict[str, Any]) -> DeadLetter:
    return DeadLetter(key=doc["key"], stage=doc["stage"], error=doc["error"],
                      payload=doc.get("payload", ""), source=doc.get("source"),
                      at=datetime.fromisoformat(doc["at"].replace("Z", "+00:00")))


def _exists_already(exc: ApiError) -> bool:
    return exc.status_code == 400 and "already_exists" in str(exc)


class DeadLetterIndex:
    """DeadLetterStore (``pipeline.storage.dead``) on Elasticsearch."""

    def __init__(self, client: Elasticsearch, prefix: str = "newswire") -> None:
        self.client, self.name = client, index_name(prefix)
        self._ready = False

    @classmethod
    def connect(cls, url: str, prefix: str = "newswire") -> DeadLetterIndex:
        return cls(Elasticsearch(url, request_timeout=30), prefix)

    def close(self) -> None:
        self.client.close()

    def ensure(self) -> None:
        """Create the index with its mapping if it is missing (idempotent)."""
        if self._ready:
            return
        if not self.client.indices.exists(index=self.name):
            try:
                self.client.indices.create(index=self.name, mappings=MAPPING, settings=SETTINGS)
            except ApiError as exc:
                if not _exists_already(exc):
                    raise
        self._ready = True

    def refresh(self) -> None:
        self.ensure()
        self.client.indices.refresh(index=self.name)

    def _query(self, stage: str | None, since: datetime | None,
               keys: list[str] | None = None) -> dict[str, Any]:
        filters: list[dict[str, Any]] = []
        if stage:
            filters.append({"term": {"stage": stage}})
        if since is not None:
            filters.append({"range": {"at": {"gte": iso(since)}}})
        if keys is not None:
            filters.append({"ids": {"values": keys}})
        return {"bool": {"filter": filters}} if filters else {"match_all": {}}

    def dead_rows(self, stage: str | None = None, since: datetime | None = None,
                  limit: int = 1000) -> list[DeadRow]:
        self.ensure()
        found = self.client.search(index=self.name, query=self._query(stage, since),
                                   sort=[{"at": "desc"}, {"key": "desc"}], size=limit,
                                   source_excludes=["payload"])
        return [DeadRow(key=h["_source"]["key"], stage=h["_source"]["stage"],
                        reason=h["_source"]["error"],
                        at=datetime.fromisoformat(h["_source"]["at"].replace("Z", "+00:00")),
                        source=h["_source"].get("source"), preview=h["_source"]["preview"])
                for h in found["hits"]["hits"]]

    def held(self, stage: str | None = None,
             keys: list[str] | None = None) -> dict[str, tuple[DeadLetter, int, int]]:
        """Whole letters by key with their (seq_no, primary_term), so that forgetting one
        after a replay never removes a newer failure of it."""
        self.ensure()
        out: dict[str, tuple[DeadLetter, int, int]] = {}
        for hit in helpers.scan(self.client, index=self.name, seq_no_primary_term=True,
                                query={"query": self._query(stage, None, keys)}, size=500):
            out[hit["_id"]] = (_letter(hit["_source"]), hit["_seq_no"], hit["_primary_term"])
        return out

    def dead_letters_by_key(self, stage: str | None = None,
                            keys: list[str] | None = None) -> dict[str, DeadLetter]:
        return {k: letter for k, (letter, _, _) in self.held(stage, keys).items()}

    def forget_dead(self, keys: list[str],
                    versions: dict[str, tuple[int, int]] | None = None) -> int:
        """Delete these letters; with ``versions``, only if unchanged since read (a letter
        that failed again meanwhile stays)."""
        self.ensure()
        removed = 0
        for key in keys:
            seq = versions.get(key) if versions else None
            extra: dict[str, Any] = ({"if_seq_no": seq[0], "if_primary_term": seq[1]}
                                     if seq else {})
            try:
                self.client.delete(index=self.name, id=key, refresh=True, **extra)
                removed += 1
            except NotFoundError:
                pass
            except ApiError as exc:
                if exc.status_code != 409:  # 409: it failed again since; keep it
                    raise
        return removed

    def purge_dead(self, before: datetime, stage: str | None = None) -> int:
        self.ensure()
        query = {"query": {"bool": {"filter": [
            {"range": {"at": {"lt": iso(before)}}},
            *([{"term": {"stage": stage}}] if stage else [])]}}}
        actions = ({"_op_type": "delete", "_index": self.name, "_id": hit["_id"]}
                   for hit in helpers.scan(self.client, index=self.name, query=query,
                                           _source=False, size=1000))
        removed, _ = helpers.bulk(self.client, actions, raise_on_error=False, refresh=True)
        return int(removed)

    def dead_counts(self) -> dict[tuple[str, str], int]:
        self.ensure()
        found = self.client.search(
            index=self.name, size=0, aggs={"stage": {
                "terms": {"field": "stage", "size": 100},
                "aggs": {"reason": {"terms": {"field": "reason", "size": 100}}}}})
        return {(s["key"], r["key"]): int(r["doc_count"])
                for s in found["aggregations"]["stage"]["buckets"]
                for r in s["reason"]["buckets"]}


async def index_dead(client: AsyncElasticsearch, prefix: str,
                     letters: list[tuple[str | None, DeadLetter]], *,
                     max_pause: float = 30.0) -> None:
    """Index letters (keyed by their Kafka key, else their own key) into ``<prefix>-dead``;
    waits and retries while Elasticsearch is unreachable or busy, so none is lost."""
    name = index_name(prefix)
    operations: list[dict[str, Any]] = []
    for kafka_key, letter in letters:
        key = kafka_key or letter_key(letter)
        operations += [{"index": {"_index": name, "_id": key}}, dead_doc(key, letter)]
    if not operations:
        return
    attempt = 0
    while True:
        try:
            if attempt == 0 and not await client.indices.exists(index=name):
                try:
                    await client.indices.create(index=name, mappings=MAPPING, settings=SETTINGS)
                except ApiError as exc:
                    if not _exists_already(exc):
                        raise
            result = await client.bulk(operations=operations)
            failed = [i for i in result["items"] if i["index"].get("status", 200) >= 300]
            if not failed:
                return
            if any(i["index"]["status"] not in RETRY_STATUS for i in failed):
                logger.error("dead letters refused by elasticsearch: %s", failed[:3])
                return
            reason = f"{len(failed)} items busy"
        except (ConnectionError, ConnectionTimeout) as exc:
            reason = f"unreachable: {exc}"
        except ApiError as exc:
            if exc.status_code not in RETRY_STATUS:
                raise
            reason = f"status {exc.status_code}"
        delay = min(max_pause, 0.25 * 2**attempt)
        logger.warning("dead-letter index back-pressure reason=%r pause=%.2fs", reason, delay)
        await asyncio.sleep(delay)
        attempt += 1
