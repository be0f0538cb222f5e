"""The Elasticsearch sink: bulk writes that pause and retry instead of dropping.

    write(articles, stories, merged) ─▶ one _bulk request
        2xx, 404 on delete, 409 on an older story snapshot   accepted
        429 / 5xx item, connection error, 429 / 502-504      pause (exponential, capped), retry
        index/alias missing (an empty cluster: a new node,   templates and aliases installed
          a wiped volume)                                      again, then the batch retried
        any other item error (a mapping refusal)             returned as Rejected → dead letter

Never written through a dynamic mapping: every write names its alias with
``require_alias``, so an Elasticsearch that came back empty refuses it (index_not_found)
instead of auto-creating an index the templates do not cover, whose guessed mapping would
then refuse every later article (``mapper [...] cannot be changed``).

Idempotent: an article's document id is its id; a story is one document replaced by newer
snapshots only (``version_type=external_gte`` with the revision the story agent gives), so
replays after a crash change nothing.

Merges across partitions: the enriched topic has several partitions, so an article of story
X may be indexed after the event that merged X into Y (a lagging partition, or a replay
after a crash). A merged story's document therefore becomes a tombstone ``{"merged_into":
Y}`` at the merge's revision (a live document keeps its version, where a delete's is
forgotten after a minute, so an old snapshot of X can never come back), and every
article's story is looked up through the tombstones before it is written.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from elasticsearch import (
    ApiError,
    AsyncElasticsearch,
    ConnectionError,
    ConnectionTimeout,
    NotFoundError,
)

from pipeline.models import AlertEvent, EnrichedArticle, Story
from pipeline.query.analysis import fold
from pipeline.storage.elasticsearch.setup import install_async
from pipeline.storage.elasticsearch.store import (
    MERGED_INTO,
    IndexNames,
    alert_id,
    article_doc,
    story_doc,
)

logger = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
MISSING = "index_not_found_exception"
Operation = tuple[dict[str, Any], dict[str, Any] | None]
Setup = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Rejected:
    """A document Elasticsearch refused for good (not a transient failure)."""

    id: str
    error: str


class ElasticsearchSink:
    """Writes enriched articles, story snapshots and alerts to their aliases."""

    def __init__(
        self,
        client: AsyncElasticsearch,
        names: IndexNames | None = None,
        *,
        max_pause: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        setup: Setup | None = None,
    ) -> None:
        """``setup`` installs the templates and aliased indices (default: ``install``)."""
        self.client = client
        self.names = names or IndexNames()
        self.max_pause = max_pause
        self.sleep = sleep
        self.setup = setup or partial(install_async, client, self.names)
        self._setup_lock = asyncio.Lock()
        self.reinstalls = 0  # times an index or alias was found missing and set up again
        self._lost = False  # set up again since ``take_lost`` last looked

    @classmethod
    def connect(cls, url: str, prefix: str = "newswire") -> ElasticsearchSink:
        return cls(AsyncElasticsearch(url, request_timeout=30), IndexNames(prefix))

    async def close(self) -> None:
        await self.client.close()

    async def write(
        self,
        articles: Sequence[EnrichedArticle],
        stories: Sequence[tuple[Story, int]] = (),
        merged: Mapping[str, tuple[str, int]] | None = None,
    ) -> list[Rejected]:
        """Index articles, story snapshots (story, revision) and merges old → (new, revision)."""
        moved = await self.moved_stories({a.story_id for a in articles if a.story_id})
        moved.update({old: new for old, (new, _) in (merged or {}).items()})
        ops: list[Operation] = [
            ({"index": {"_index": self.names.articles, "_id": a.id, "require_alias": True}},
             article_doc(a.model_copy(update={"story_id": _follow(moved, a.story_id)})
                         if a.story_id in moved else a))
            for a in articles
        ]
        newest: dict[str, tuple[Story, int]] = {}
        for story, revision in stories:
            if story.id not in newest or newest[story.id][1] <= revision:
                newest[story.id] = (story, revision)
        for story, revision in newest.values():
            ops.append(({"index": {"_index": self.names.stories, "_id": story.id,
                                   "version": revision + 1, "version_type": "external_gte",
                                   "require_alias": True}},
                        story_doc(story)))
        for old, (new, revision) in (merged or {}).items():
            ops.append(({"index": {"_index": self.names.stories, "_id": old,
                                   "version": revision + 1, "version_type": "external_gte",
                                   "require_alias": True}},
                        {"id": old, MERGED_INTO: new}))
        rejected = await self._bulk(ops)
        if merged:
            await self._repoint({old: _follow(moved, old) for old in merged})
        return rejected

    async def moved_stories(self, story_ids: set[str]) -> dict[str, str]:
        """Story ids whose document is a tombstone → the story each was merged into."""
        moved: dict[str, str] = {}
        pending = set(story_ids)
        for _hop in range(8):  # merge chains X → Y → Z are short
            if not pending:
                break
            response = await self._retrying(partial(
                self.client.mget, index=self.names.stories, ids=sorted(pending),
                source_includes=[MERGED_INTO]))
            pending = set()
            for doc in response["docs"]:
                target = (doc.get("_source") or {}).get(MERGED_INTO) if doc.get("found") else None
                if target and doc["_id"] not in moved:
                    moved[doc["_id"]] = target
                    pending.add(target)
        return moved

    async def _repoint(self, merged: Mapping[str, str]) -> None:
        """Articles of merged stories now belong to the surviving story."""
        while True:
            await self._retrying(lambda: self.client.indices.refresh(index=self.names.articles))
            response = await self._retrying(lambda: self.client.search(
                index=self.names.articles, size=5_000, source_includes=["story_id"],
                query={"terms": {"story_id": list(merged)}}))
            ops: list[Operation] = []
            for hit in response["hits"]["hits"]:
                new = merged[hit["_source"]["story_id"]]
                ops.append(({"update": {"_index": self.names.articles, "_id": hit["_id"],
                                        "require_alias": True}},
                            {"doc": {"story_id": new, "keys": {"story": fold(new)}}}))
            if not ops:
                return
            if await self._bulk(ops):
                logger.error("articles of merged stories %s could not all be repointed",
                             sorted(merged))
                return

    async def has_alert(self, event: AlertEvent) -> bool:
        try:
            await self._retrying(lambda: self.client.get(
                index=self.names.alerts, id=alert_id(event), source=False))
            return True
        except NotFoundError:  # the document (a missing index is set up again and retried)
            return False

    async def record_alert(self, event: AlertEvent) -> None:
        await self._retrying(lambda: self.client.index(
            index=self.names.alerts, id=alert_id(event), document=event.model_dump(mode="json"),
            require_alias=True))

    async def reinstall(self, reason: str) -> None:
        """An index or alias is gone (Elasticsearch came back empty): put the templates and
        aliased indices back before anything is written again."""
        seen = self.reinstalls
        async with self._setup_lock:
            if self.reinstalls != seen:  # another task set it up while this one waited
                return
            logger.warning("elasticsearch index or alias missing (empty cluster?), installing "
                           "templates and aliases again prefix=%s reason=%r",
                           self.names.prefix, reason)
            await self._retrying(self.setup, reinstall=False)
            self.reinstalls += 1
            self._lost = True

    def take_lost(self) -> bool:
        """Whether indices were found missing (and set up again) since the last call: what
        they held is gone (``pipeline.runtime.kafka.reindex`` writes it again)."""
        lost, self._lost = self._lost, False
        return lost

    # -- back-pressure -------------------------------------------------------------------

    async def _bulk(self, ops: list[Operation]) -> list[Rejected]:
        rejected: list[Rejected] = []
        pending, attempt = ops, 0
        while pending:
            body: list[dict[str, Any]] = []
            for action, source in pending:
                body += [action] if source is None else [action, source]
            response = await self._retrying(partial(self.client.bulk, operations=body))
            retry: list[Operation] = []
            missing: list[str] = []
            for op, item in zip(pending, response["items"], strict=True):
                (action, result), = item.items()
                status = int(result.get("status", 500))
                if status < 300 or status == 409 or (status == 404 and action == "delete"):
                    continue
                if status in RETRY_STATUS:
                    retry.append(op)
                elif (result.get("error") or {}).get("type") == MISSING:
                    retry.append(op)
                    missing.append(str(result.get("_index")))
                else:
                    rejected.append(Rejected(str(result.get("_id")),
                                             json.dumps(result.get("error"), default=str)))
            if missing:
                await self.reinstall(f"bulk: no index {sorted(set(missing))}")
                if attempt:  # set up and still missing: do not spin
                    await self._pause(attempt, "index missing after setup")
                attempt += 1
            elif retry:
                await self._pause(attempt, f"{len(retry)} bulk items refused (429/5xx)")
                attempt += 1
            pending = retry
        return rejected

    async def _retrying(self, call: Callable[[], Awaitable[Any]], *,
                        reinstall: bool = True) -> Any:
        attempt = 0
        while True:
            try:
                return await call()
            except (ConnectionError, ConnectionTimeout) as exc:
                reason = f"unreachable: {exc}"
            except NotFoundError as exc:
                if not reinstall or exc.error != MISSING:
                    raise
                await self.reinstall(str(exc))
                if not attempt:
                    attempt = 1
                    continue
                reason = "index missing after setup"
            except ApiError as exc:
                if exc.status_code not in RETRY_STATUS:
                    raise
                reason = f"status {exc.status_code}"
            await self._pause(attempt, reason)
            attempt += 1

    async def _pause(self, attempt: int, reason: str) -> None:
        delay = min(self.max_pause, 0.25 * 2**attempt)
        logger.warning("elasticsearch back-pressure reason=%r pause=%.2fs", reason, delay)
        await self.sleep(delay)


def _follow(moved: Mapping[str, str], story_id: str) -> str:
    """Where ``story_id`` lives now, following merge chains (``moved``: old → new)."""
    for _hop in range(16):
        if story_id not in moved:
            break
        story_id = moved[story_id]
    return story_id
