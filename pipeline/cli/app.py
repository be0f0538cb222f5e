"""The ``newswire`` command line. Every command has ``--help``; ``--json`` output is stable."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from pipeline.cli.alerts import alerts_app
from pipeline.cli.common import (
    console,
    dump,
    err,
    fail,
    id_column,
    open_store,
    root,
    settings,
)
from pipeline.cli.dead_letters import dead_letters_app
from pipeline.cli.explain import explain
from pipeline.cli.feeds import feeds_app
from pipeline.cli.init import init
from pipeline.cli.setup import kibana_app, setup
from pipeline.cli.web import story, web, web_beside
from pipeline.errors import QuerySyntaxError
from pipeline.models import EnrichedArticle, Story
from pipeline.web.format import iso, plural

app = typer.Typer(help="newswire: watch news feeds, cluster stories, search, alert.",
                  no_args_is_help=True, add_completion=False)
app.add_typer(alerts_app, name="alerts")
app.add_typer(feeds_app, name="feeds")
app.add_typer(dead_letters_app, name="dead-letters")
app.add_typer(kibana_app, name="kibana")
app.command()(web)
app.command()(explain)
app.command()(setup)
app.command()(story)
app.command()(init)

BackendOpt = Annotated[str | None, typer.Option(
    "--backend", help="embedded (SQLite) or kafka (Kafka + Elasticsearch); "
    "env NEWSWIRE_BACKEND")]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]


@app.callback()
def main_options(
    config: Annotated[Path | None, typer.Option(
        "--config", help="Config directory (env NEWSWIRE_CONFIG, default ./config).")] = None,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="Data directory (env NEWSWIRE_DATA_DIR, default ./data).")] = None,
    backend: BackendOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s",
                        stream=sys.stderr)
    root.config, root.data_dir, root.backend = config, data_dir, backend


# -- running ------------------------------------------------------------------------------
@app.command()
def run(
    once: Annotated[bool, typer.Option("--once", help="One polling round, drain, exit.")] = False,
    backend: BackendOpt = None,
    serve: Annotated[bool, typer.Option("--web", help="Also serve the search page on "
                                        "127.0.0.1 (see `newswire web`).")] = False,
    web_port: Annotated[int, typer.Option("--web-port", help="Port for --web.")] = 8000,
) -> None:
    """Poll every feed in config/feeds.yaml continuously; process, index, alert (Ctrl-C stops)."""
    cfg = settings(backend)
    if cfg.backend == "kafka":
        err.print("kafka backend: run `newswire poll` and `newswire worker` (see README)")
        raise typer.Exit(2)
    from pipeline.runtime.embedded import EmbeddedRuntime

    async def go() -> None:
        runtime = EmbeddedRuntime(cfg)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            async with web_beside(cfg, web_port if serve else None):
                stats = await runtime.run(once=once, stop=stop)
        finally:
            await runtime.close()
        err.print(f"processed {plural(stats.processed, 'article')}, "
                  f"{plural(len(stats.new_stories), 'new story', 'new stories')}, "
                  f"{plural(stats.alerts, 'alert')}, {stats.skipped} already seen, "
                  f"{stats.dead} dead-lettered")

    asyncio.run(go())


@app.command()
def ingest(
    file: Annotated[str, typer.Argument(
        help="JSONL archive (url, title, html|text, ...), gzip-compressed or not; - reads "
        "stdin. Example: newswire ingest archive.jsonl.gz", metavar="FILE")],
    backend: BackendOpt = None,
) -> None:
    """Push an archive of raw articles through the pipeline (backfill); idempotent.

    Lines are UTF-8 (a byte order mark is fine); a line that is not is read as
    Windows-1252 with a warning naming it. Exits 1 when no line could be ingested."""
    from pipeline.sources.archive import BadLine

    cfg = settings(backend)
    name = "<stdin>" if file == "-" else file
    recoded: list[int] = []
    items = _read(file, lambda lineno, _: recoded.append(lineno))
    for lineno in recoded[:10]:
        err.print(f"[yellow]{name}:[/yellow] line {lineno}: not UTF-8, read as Windows-1252 "
                  "(Latin-1); check its accents, or convert the file to UTF-8")
    if len(recoded) > 10:
        err.print(f"[yellow]{name}:[/yellow] {len(recoded) - 10} more lines read as "
                  "Windows-1252")
    bad = [b for _, b in items if isinstance(b, BadLine)]
    raws = [r for _, r in items if not isinstance(r, BadLine)]
    for line in bad:
        err.print(f"[yellow]{name}:[/yellow] {line.reason} (skipped)")
    if cfg.backend == "kafka":
        from pipeline.runtime.kafka.poller import ingest_to_kafka
        letters = [_bad_line_letter(line, name) for line in bad]
        sent = asyncio.run(ingest_to_kafka(cfg, raws, letters)) if raws or bad else 0
        err.print(f"sent {plural(sent, 'article')} to Kafka, "
                  f"{plural(len(bad), 'bad line')} dead-lettered")
        _fail_if_nothing(name, len(items), len(bad))
        return
    started = time.monotonic()
    stats = asyncio.run(_ingest_embedded(cfg, raws, bad, name))
    took = time.monotonic() - started
    err.print(f"processed {stats.processed}, already seen {stats.skipped}, dead-lettered "
              f"{stats.dead}, bad lines {len(bad)}, alerts {stats.alerts} in {took:.1f} s "
              f"({len(raws) / took if took else 0:,.0f} articles/s)")
    _fail_if_nothing(name, len(items), len(bad) + stats.dead)


def _read(file: str, on_recoded: Any) -> list[tuple[int, Any]]:
    """Every line of the archive at ``file`` (``-``: stdin); a missing file exits 2."""
    from pipeline.sources.archive import read_archive

    if file == "-":
        return list(read_archive(sys.stdin.buffer, on_recoded))
    path = Path(file)
    if not path.is_file():
        raise fail(f"no archive file at {path}" + (" (it is a directory)" if path.is_dir()
                                                   else ""))
    return list(read_archive(path, on_recoded))


def _fail_if_nothing(name: str, lines: int, failed: int) -> None:
    """Exit 1 when every line of a non-empty archive failed; say so for an empty one."""
    if not lines:
        err.print(f"{name}: no lines to ingest")
    elif failed >= lines:
        raise fail(f"none of the {plural(lines, 'line')} of {name} could be ingested", code=1)


def _bad_line_letter(line: Any, name: str) -> Any:
    """The dead letter of an archive line that could not be read (``BadLine``)."""
    from pipeline.models import DeadLetter

    return DeadLetter(stage="ingest", error=line.reason, payload=line.payload,
                      source=f"{name}:{line.lineno}")


async def _ingest_embedded(cfg: Any, raws: list[Any], bad: list[Any], name: str = "") -> Any:
    from pipeline.runtime.embedded import EmbeddedRuntime, Stats

    runtime = EmbeddedRuntime(cfg)
    total = Stats()
    try:
        for line in bad:
            runtime.store.put_dead(_bad_line_letter(line, name))
        chunk = 500
        with _progress(len(raws)) as advance:
            for start in range(0, len(raws), chunk):
                total.add(await runtime.process(raws[start:start + chunk]))
                advance(min(chunk, len(raws) - start))
    finally:
        await runtime.close()
    return total


def _progress(total: int) -> Any:
    """A progress bar on a terminal: done / total, articles per second and time left."""
    from contextlib import contextmanager

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f} articles/s" if speed else "… articles/s")

    @contextmanager
    def ctx() -> Any:
        if not sys.stderr.isatty():
            yield lambda n: None
            return
        columns = (TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), Rate(),
                   TimeRemainingColumn())
        with Progress(*columns, console=err) as progress:
            task = progress.add_task("ingesting", total=total)
            yield lambda n: progress.advance(task, n)

    return ctx()


@app.command()
def extract(
    file: Annotated[Path, typer.Argument(help="An HTML page or a text file.", exists=True,
                                         dir_okay=False)],
    url: Annotated[str, typer.Option(help="The page's URL (for identity and source).")] =
    "https://local.invalid/page",
    explain: Annotated[bool, typer.Option("--explain", help="Show kept and dropped lines "
                                          "with the rule that dropped each.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run the clean stage on one file: main text and metadata (debugging aid).

    Lines the embedded runtime learned as junk for the page's source (its --url host)
    are dropped as ``learned-source-junk``."""
    from pipeline.models import RawArticle
    from pipeline.processing.clean.cleaner import Cleaner
    from pipeline.processing.clean.extract import decode_html

    data = file.read_bytes()
    is_html = file.suffix.lower() in (".html", ".htm") or b"<html" in data[:2000].lower()
    raw = RawArticle(url=url, html=decode_html(data) if is_html else None,
                     text=None if is_html else data.decode("utf-8", errors="replace"))
    result = Cleaner().explain(raw, _learned_junk(raw))
    if as_json:
        dump({"article": article_record_plain(result.article) if result.article else None,
               "error": result.error,
               "lines": [{"line": v.line, "kept": v.kept, "rule": v.rule}
                         for v in result.verdicts] if explain else None})
        return
    if explain:
        for v in result.verdicts:
            mark = "[green]keep[/green]" if v.kept else f"[red]drop[/red] [dim]{v.rule}[/dim]"
            console.print(f"{mark}  {v.line}", markup=True, highlight=False, soft_wrap=True)
        console.print()
    if result.error or result.article is None:
        err.print(f"[red]not extracted:[/red] {result.error}")
        raise typer.Exit(1)
    a = result.article
    console.print(f"[bold]{a.title}[/bold]\n{a.author or ''} {a.published or ''} {a.source} "
                  f"{a.lang or ''} {a.canonical_url or ''}\n", highlight=False)
    console.print(a.text, highlight=False, markup=False)


def _learned_junk(raw: Any) -> frozenset[str]:
    """The junk the embedded runtime learned for the page's source (by --url), if any."""
    from pipeline.processing.clean.source_junk import SourceJunk, junk_source
    from pipeline.storage.sqlite.store import SqliteStore

    cfg = settings(alerts=False)
    if cfg.backend == "kafka" or not cfg.db_path.exists():
        return frozenset()
    store = SqliteStore(cfg.db_path)
    try:
        return SourceJunk(store.mapping("source_junk")).known(junk_source(raw))
    finally:
        store.close()


def article_record_plain(a: Any) -> dict[str, Any]:
    return json.loads(a.model_dump_json())


# -- reading ------------------------------------------------------------------------------
def article_record(a: EnrichedArticle) -> dict[str, Any]:
    return {"id": a.id, "url": a.link, "title": a.title, "text": a.text, "author": a.author,
            "published": iso(a.published), "source": a.source,
            "lang": a.lang, "topics": a.topics, "story_id": a.story_id,
            "evidence": {m.topic: m.evidence for m in a.topic_matches}}


def story_record(s: Story) -> dict[str, Any]:
    return {"id": s.id, "headline": s.headline, "article_count": s.article_count,
            "sources": s.sources, "topics": s.topics, "first_seen": iso(s.first_seen),
            "last_seen": iso(s.last_seen), "article_ids": s.article_ids,
            "near_copies": s.near_copies, "merged_from": s.merged_from}


@app.command()
def export(backend: BackendOpt = None) -> None:
    """Every processed article as JSONL."""
    store = open_store(settings(backend, alerts=False))
    for article in store.export():
        dump(article_record(article))


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(help='Lucene syntax: "frozen assets", NATO AND '
                                                'membership, topic:nato, title:pact, sanction*'
                                                ' (optional with filters)')] = None,
    topic: Annotated[str | None, typer.Option("--topic", help="Only this topic, e.g. nato.")]
    = None,
    source: Annotated[str | None, typer.Option("--source", help="Only this source (outlet).")]
    = None,
    since: Annotated[str | None, typer.Option("--since", help="Published on or after: "
                                              "YYYY-MM-DD or now-7d.")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="Only this language, e.g. en.")]
    = None,
    by_story: Annotated[bool, typer.Option("--by-story", help="One row per story (its best "
                                           "hit), stories in order of their best hit.")] = False,
    page: Annotated[int, typer.Option("--page", min=1, help="Page of --limit hits.")] = 1,
    as_json: JsonOpt = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Most hits to show.")] = 20,
    backend: BackendOpt = None,
) -> None:
    """Full-text search with highlighted snippets, filters and paging.

    Filters are ANDed onto the query (--topic nato → AND topic:"nato"), so they work on
    both backends. Example: newswire search pact --topic nato --since 2024-06-01 --by-story"""
    from pipeline.web.service import Reader

    cfg = settings(backend, alerts=False)
    try:
        found = Reader(open_store(cfg), cfg).search(query, topic=topic, source=source, lang=lang,
                                                since=since, page=page, limit=limit,
                                                facets=False)
    except QuerySyntaxError as exc:
        err.print(f"[red]query error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if as_json:
        record: dict[str, Any] = {"query": found.composed, "page": found.page,
                                  "has_next": found.has_next, "total": found.total,
                                  "total_capped": found.facets.capped,
                                  "hits": [h.model_dump(mode="json") for h in found.hits]}
        if by_story:
            record["stories"] = [g.model_dump(mode="json") for g in found.groups]
        dump(record)
        return
    table = Table(show_lines=True)
    if by_story:
        id_column(table, "story")
        for name in ("headline", "articles", "sources", "best hit"):
            table.add_column(name)
        for g in found.groups:
            table.add_row(g.story_id, g.headline, str(g.article_count), ", ".join(g.sources),
                          _marked(g.hits[0].snippet))
    else:
        id_column(table, "article / story")
        for name in ("title", "source / published", "snippet", "score"):
            table.add_column(name)
        for h in found.hits:
            day = h.published.date().isoformat() if h.published else "undated"
            table.add_row(f"{h.id}\n[dim]{h.story_id}[/dim]", escape(h.title),
                          f"{escape(h.source)}\n[dim]{day}[/dim]", _marked(h.snippet),
                          f"{h.score:.2f}")
    console.print(table if found.hits else "no hits")
    if found.has_next:
        err.print(f"more hits: --page {found.page + 1}")


def _marked(snippet: str) -> str:
    """A snippet as rich markup: the text escaped, [[matches]] in bold yellow."""
    import re

    from rich.markup import escape

    parts = re.split(r"\[\[|\]\]", snippet)
    return "".join(f"[bold yellow]{escape(p)}[/bold yellow]" if i % 2 else escape(p)
                   for i, p in enumerate(parts))


@app.command()
def stories(as_json: JsonOpt = False, backend: BackendOpt = None) -> None:
    """Stories with headline, article count, sources, topics, first/last seen."""
    found = open_store(settings(backend, alerts=False)).stories()
    if as_json:
        dump({"stories": [story_record(s) for s in found]})
        return
    table = Table()
    id_column(table, "id")
    for name in ("headline", "articles", "sources", "topics", "last seen"):
        table.add_column(name)
    for s in found:
        table.add_row(s.id, s.headline, str(s.article_count), ", ".join(s.sources),
                      ", ".join(s.topics), s.last_seen.strftime("%Y-%m-%d %H:%M"))
    console.print(table)


# -- distributed ----------------------------------------------------------------------------
@app.command()
def poll(once: Annotated[bool, typer.Option("--once")] = False,
         shard: Annotated[str, typer.Option(help="i/N: poll the feeds this process owns "
                                            "(URL hash mod N), e.g. 0/2 and 1/2")] = "0/1",
         ) -> None:
    """Kafka backend: poll feeds into newswire.raw; prints what was sent and feed health.

    Example: newswire --backend kafka poll --once"""
    from pipeline.runtime.kafka.poller import run_poller
    index, _, count = shard.partition("/")
    cfg = settings("kafka")
    sent = asyncio.run(run_poller(cfg, once=once, shard=(int(index), int(count or 1))))
    err.print(f"sent {plural(sent, 'new article')} to {cfg.topic_prefix}.raw; feeds: "
              f"{_health_summary(cfg)}")


def _health_summary(cfg: Any) -> str:
    """``2 ok, 1 failing`` over the configured feeds (the poller's state), worst first."""
    from pipeline.cli.feeds import _feed_states
    from pipeline.sources.health import classify

    known = _feed_states(cfg)
    counts: dict[str, int] = {}
    for feed in cfg.feeds:
        state = classify(known.get(feed.url, {}))
        counts[state] = counts.get(state, 0) + 1
    order = ("gone", "failing", "stale", "new", "ok")
    shown = [f"{counts[s]} {s}" for s in sorted(counts, key=lambda s: (
        order.index(s) if s in order else -1, s))]
    hint = " (`newswire feeds --backend kafka` says why)" if set(counts) - {"ok", "new"} else ""
    return (", ".join(shown) or "none configured") + hint


@app.command()
def worker(role: Annotated[str, typer.Option(
        "--role", help="all | stateless (clean, index, deliver; run several) | stateful "
        "(the story agent, once)")] = "all",
        log_level: Annotated[str, typer.Option(
            "--log-level", envvar="NEWSWIRE_LOG_LEVEL",
            help="debug | info | warning | error")] = "warning") -> None:
    """Kafka backend: run the Faust agents (clean, enrich, index, alert).

    Example: `newswire worker --role stateful` beside two `newswire worker --role stateless`."""
    from pipeline.runtime.kafka.worker import run_worker
    if role not in ("all", "stateless", "stateful"):
        raise typer.BadParameter("--role must be all, stateless or stateful")
    if log_level.lower() not in ("debug", "info", "warning", "error"):
        raise typer.BadParameter("--log-level must be debug, info, warning or error")
    run_worker(settings("kafka"), role=role, loglevel=log_level.lower())  # type: ignore[arg-type]


def main() -> None:
    app()


if __name__ == "__main__":
    main()
