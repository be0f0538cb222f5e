"""The ``newswire`` command line. Every command has ``--help``; ``--json`` output is stable."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from pipeline.cli.alerts import alerts_app
from pipeline.cli.common import console, dump, err, open_store, root, settings
from pipeline.cli.feeds import feeds_app
from pipeline.cli.setup import kibana_app, setup
from pipeline.cli.web import story, web, web_beside
from pipeline.errors import QuerySyntaxError
from pipeline.models import EnrichedArticle, Story

app = typer.Typer(help="newswire: watch news feeds, cluster stories, search, alert.",
                  no_args_is_help=True, add_completion=False)
app.add_typer(alerts_app, name="alerts")
app.add_typer(feeds_app, name="feeds")
app.add_typer(kibana_app, name="kibana")
app.command()(web)
app.command()(setup)
app.command()(story)

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
        err.print(f"processed {stats.processed} articles, {len(stats.new_stories)} new "
                  f"stories, {stats.alerts} alerts, {stats.skipped} already seen, "
                  f"{stats.dead} dead-lettered")

    asyncio.run(go())


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="JSONL archive: url, title, html|text, ...",
                                         exists=True, dir_okay=False)],
    backend: BackendOpt = None,
) -> None:
    """Push an archive of raw articles through the pipeline (backfill); idempotent."""
    from pipeline.sources.archive import BadLine, read_archive

    cfg = settings(backend)
    items = list(read_archive(file))
    bad = [b for _, b in items if isinstance(b, BadLine)]
    raws = [r for _, r in items if not isinstance(r, BadLine)]
    for line in bad:
        err.print(f"[yellow]{file}:[/yellow] {line.reason} (skipped)")
    if cfg.backend == "kafka":
        from pipeline.runtime.kafka.poller import ingest_to_kafka
        sent = asyncio.run(ingest_to_kafka(cfg, raws))
        err.print(f"sent {sent} articles to Kafka, {len(bad)} bad lines skipped")
        return
    from pipeline.models import DeadLetter
    from pipeline.runtime.embedded import EmbeddedRuntime, Stats

    async def go() -> Stats:
        runtime = EmbeddedRuntime(cfg)
        total = Stats()
        try:
            for line in bad:
                runtime.store.put_dead(DeadLetter(stage="ingest", error=line.reason,
                                                  payload=line.payload))
            chunk = 500
            with _progress(len(raws)) as advance:
                for start in range(0, len(raws), chunk):
                    total.add(await runtime.process(raws[start:start + chunk]))
                    advance(min(chunk, len(raws) - start))
        finally:
            await runtime.close()
        return total

    stats = asyncio.run(go())
    err.print(f"processed {stats.processed}, already seen {stats.skipped}, dead-lettered "
              f"{stats.dead}, bad lines {len(bad)}, alerts {stats.alerts}")


def _progress(total: int) -> Any:
    from contextlib import contextmanager

    from rich.progress import Progress

    @contextmanager
    def ctx() -> Any:
        if not sys.stderr.isatty():
            yield lambda n: None
            return
        with Progress(console=err) as progress:
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
    return {"id": a.id, "url": a.url, "title": a.title, "text": a.text, "author": a.author,
            "published": a.published.isoformat() if a.published else None, "source": a.source,
            "lang": a.lang, "topics": a.topics, "story_id": a.story_id,
            "evidence": {m.topic: m.evidence for m in a.topic_matches}}


def story_record(s: Story) -> dict[str, Any]:
    return {"id": s.id, "headline": s.headline, "article_count": s.article_count,
            "sources": s.sources, "topics": s.topics, "first_seen": s.first_seen.isoformat(),
            "last_seen": s.last_seen.isoformat(), "article_ids": s.article_ids,
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
                                  "has_next": found.has_next, "total": len(found.hits),
                                  "hits": [h.model_dump(mode="json") for h in found.hits]}
        if by_story:
            record["stories"] = [g.model_dump(mode="json") for g in found.groups]
        dump(record)
        return
    if by_story:
        table = Table("story", "headline", "articles", "sources", "best hit", show_lines=True)
        for g in found.groups:
            table.add_row(g.story_id, g.headline, str(g.article_count), ", ".join(g.sources),
                          _marked(g.hits[0].snippet))
    else:
        table = Table("score", "title", "source", "published", "story", "snippet",
                      show_lines=True)
        for h in found.hits:
            table.add_row(f"{h.score:.2f}", h.title, h.source,
                          h.published.date().isoformat() if h.published else "", h.story_id,
                          _marked(h.snippet))
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
    table = Table("id", "headline", "articles", "sources", "topics", "last seen")
    for s in found:
        table.add_row(s.id, s.headline, str(s.article_count), ", ".join(s.sources),
                      ", ".join(s.topics), s.last_seen.strftime("%Y-%m-%d %H:%M"))
    console.print(table)


@app.command()
def explain(
    article_id: Annotated[str, typer.Argument(help="An article id (see export/search).")],
    as_json: JsonOpt = False,
    backend: BackendOpt = None,
) -> None:
    """Why an article got each topic: the query, the words that matched and where."""
    article = open_store(settings(backend, alerts=False)).article(article_id)
    if article is None:
        err.print(f"no article with id {article_id!r}: ids are in `newswire export` and "
                  "`newswire search --json`")
        raise typer.Exit(1)
    if as_json:
        dump({"id": article.id, "title": article.title, "story_id": article.story_id,
               "topics": [m.model_dump() for m in article.topic_matches]})
        return
    console.print(f"[bold]{article.title}[/bold]  ({article.source}, story {article.story_id})",
                  highlight=False)
    if not article.topic_matches:
        console.print("no topic matched")
    for match in article.topic_matches:
        console.print(f"\n[bold cyan]{match.topic}[/bold cyan]  query: {match.query}",
                      highlight=False, markup=True)
        for word, start, end in match.evidence:
            where, _, surface = word.rpartition(":") if word.startswith(("title:", "author:")) \
                else ("text", "", word)
            context = article.text[max(0, start - 50):end + 50].replace("\n", " ") \
                if where == "text" else (article.title if where == "title" else article.author)
            console.print(f"  {surface!r} at {where}[{start}:{end}]  …{context}…",
                          highlight=False, markup=False)


# -- distributed ----------------------------------------------------------------------------
@app.command()
def poll(once: Annotated[bool, typer.Option("--once")] = False,
         shard: Annotated[str, typer.Option(help="i/N: poll the feeds this process owns "
                                            "(URL hash mod N), e.g. 0/2 and 1/2")] = "0/1",
         ) -> None:
    """Kafka backend: poll feeds into newswire.raw."""
    from pipeline.runtime.kafka.poller import run_poller
    index, _, count = shard.partition("/")
    asyncio.run(run_poller(settings("kafka"), once=once, shard=(int(index), int(count or 1))))


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
