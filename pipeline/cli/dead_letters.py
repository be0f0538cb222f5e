"""``newswire dead-letters``: list, replay and purge what the pipeline could not process.

    newswire dead-letters [--stage S] [--since D] [--json]   key, stage, reason, when,
                                                             source, a preview of the payload
    newswire dead-letters replay [--stage S] [KEY...]        back through the pipeline from
                                                             the stage that failed
    newswire dead-letters purge --before D                   forget letters older than D

Embedded: the SQLite store's ``dead`` table. Kafka: the ``<prefix>-dead`` index the worker
fills from the ``<prefix>.dead`` topic (``pipeline.storage.elasticsearch.dead``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pipeline.cli.common import console, dump, err, fail, id_column, settings
from pipeline.config.settings import Settings
from pipeline.errors import ConfigError, QuerySyntaxError, SinkUnavailable
from pipeline.models import DeadLetter
from pipeline.runtime.replay import ReplayReport
from pipeline.storage.dead import DeadLetterStore, DeadRow, since_moment
from pipeline.web.format import iso, plural, when

dead_letters_app = typer.Typer(
    help="Dead letters: list (default), replay, purge.", invoke_without_command=True)

StageOpt = Annotated[str | None, typer.Option(
    "--stage", help="Only this stage: ingest, poll, clean, enrich, index, alert, produce, "
    "decode.")]


def moment(value: str, option: str) -> datetime:
    """``since_moment``; a bad value exits 2 saying what to write."""
    try:
        return since_moment(value)
    except QuerySyntaxError as exc:
        raise fail(escape(f"invalid {option} {value!r}: give a date (2024-06-01), an ISO "
                          "time, date math (now-7d) or a period (24h, 7d)")) from exc


@contextmanager
def dead_store(cfg: Settings) -> Iterator[DeadLetterStore]:
    """The configured backend's dead letters; an unreachable Elasticsearch exits 2."""
    if cfg.backend == "kafka":
        from elasticsearch import ApiError, TransportError

        from pipeline.storage.elasticsearch.dead import DeadLetterIndex

        if logging.getLogger().level > logging.INFO:  # its retries log tracebacks
            logging.getLogger("elastic_transport").setLevel(logging.ERROR)
        index = DeadLetterIndex.connect(cfg.elasticsearch, cfg.index_prefix)
        try:
            yield index
        except (TransportError, ApiError) as exc:
            raise fail(escape(f"Elasticsearch at {cfg.elasticsearch}: {exc}; is it running? "
                              "(scripts/services status)")) from exc
        finally:
            index.close()
        return
    from pipeline.storage.sqlite.store import SqliteStore

    try:
        store = SqliteStore(cfg.db_path)
    except ConfigError as exc:
        raise fail(escape(str(exc))) from exc
    try:
        yield store
    finally:
        store.close()


def row_json(row: DeadRow) -> dict[str, str | None]:
    return {"key": row.key, "stage": row.stage, "reason": row.reason, "at": iso(row.at),
            "source": row.source, "preview": row.preview}


@dead_letters_app.callback()
def listing(
    ctx: typer.Context,
    stage: StageOpt = None,
    since: Annotated[str | None, typer.Option(
        "--since", help="Only letters recorded since: 2024-06-01, now-7d or 24h.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many, newest "
                                       "first.")] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """What could not be processed, newest first: key, stage, reason, when, source (feed
    or archive file:line), a preview of the payload. Example: newswire dead-letters --json"""
    if ctx.invoked_subcommand:
        return
    cfg = settings(alerts=False)
    start = moment(since, "--since") if since else None
    with dead_store(cfg) as store:
        rows = store.dead_rows(stage, start, limit)
    if as_json:
        dump({"dead_letters": [row_json(r) for r in rows]})
        return
    if not rows:
        err.print("no dead letters" + (f" at stage {stage}" if stage else "")
                  + (f" since {since}" if since else ""))
        return
    table = Table()
    table.add_column("when", no_wrap=True)
    table.add_column("stage", no_wrap=True)
    table.add_column("reason", ratio=3)
    table.add_column("source", ratio=2, overflow="fold")
    table.add_column("preview", ratio=2)
    id_column(table, "key")
    for r in rows:
        table.add_row(when(r.at), r.stage, escape(r.reason), escape(r.source or ""),
                      escape(r.preview), escape(r.key))
    console.print(table)
    by_stage = Counter(r.stage for r in rows)
    err.print(f"{plural(len(rows), 'dead letter')} ("
              + ", ".join(f"{stage_} {n}" for stage_, n in sorted(by_stage.items()))
              + "); `newswire dead-letters replay` sends them through again")


@dead_letters_app.command()
def replay(
    keys: Annotated[list[str] | None, typer.Argument(
        help="Letter keys (from the listing); none: every letter (of --stage).",
        metavar="[KEY]...")] = None,
    stage: StageOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Send dead letters back through the pipeline from the stage that failed (idempotent).
    One that goes through leaves the list; one that fails again stays with its new reason.
    Kafka: the payload goes back to the failed stage's input topic for the workers.
    Example: newswire dead-letters replay --stage clean"""
    from pipeline.runtime.replay import replay_kafka

    cfg = settings()
    wanted = list(dict.fromkeys(keys)) if keys else None
    report = ReplayReport()
    with dead_store(cfg) as store:
        found = store.dead_letters_by_key(stage, wanted)
        missing = [k for k in wanted or [] if k not in found]
        if found and cfg.backend == "kafka":
            from pipeline.storage.elasticsearch.dead import DeadLetterIndex

            assert isinstance(store, DeadLetterIndex)
            try:
                report = asyncio.run(replay_kafka(cfg, store, stage, list(found)))
            except SinkUnavailable as exc:
                raise fail(escape(f"{exc}; nothing was replayed")) from exc
        elif found:
            report = asyncio.run(_replay_embedded(cfg, found))
    if as_json:
        dump({"through": report.through, "sent": report.sent, "failed": report.failed,
              "skipped": report.skipped, "unknown": missing})
    else:
        for key, reason in report.failed.items():
            err.print(f"[yellow]{escape(key)}[/yellow]: failed again: {escape(reason)}")
        for key, why in report.skipped.items():
            err.print(f"[yellow]{escape(key)}[/yellow]: not replayable: {escape(why)}")
        for key in missing:
            err.print(f"[red]{escape(key)}[/red]: no such dead letter"
                      + (f" at stage {stage}" if stage else "") + " (see `newswire dead-letters`)")
        done = (f"{len(report.sent)} sent back to Kafka (a letter that fails again returns "
                "with its new reason)" if cfg.backend == "kafka"
                else f"{len(report.through)} went through")
        err.print(f"replayed {plural(len(found), 'dead letter')}: {done}, "
                  f"{len(report.failed)} failed again, {len(report.skipped)} not replayable")
    if missing or report.failed or (wanted and report.skipped):
        raise typer.Exit(1)


async def _replay_embedded(cfg: Settings, found: dict[str, DeadLetter]) -> ReplayReport:
    from pipeline.runtime.embedded import EmbeddedRuntime
    from pipeline.runtime.replay import replay_embedded

    runtime = EmbeddedRuntime(cfg)
    try:
        return await replay_embedded(runtime, found)
    finally:
        await runtime.close()


@dead_letters_app.command()
def purge(
    before: Annotated[str, typer.Option(
        "--before", help="Forget letters recorded before: 2024-06-01, now-30d or 30d.")],
    stage: StageOpt = None,
) -> None:
    """Forget dead letters recorded before a time (they are not replayed).
    Example: newswire dead-letters purge --before 30d"""
    cfg = settings(alerts=False)
    cutoff = moment(before, "--before")
    with dead_store(cfg) as store:
        removed = store.purge_dead(cutoff, stage)
    err.print(f"purged {plural(removed, 'dead letter')} recorded before {iso(cutoff)}"
              + (f" at stage {stage}" if stage else ""))
