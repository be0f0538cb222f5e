"""``newswire feeds``: feed health, OPML import and export.

    newswire feeds [--json]           health per feed (state ok/failing/stale/gone/new)
    newswire feeds import FILE.opml   add the OPML's feeds to config/feeds.yaml
    newswire feeds export             the configured feeds as OPML 2.0 on stdout
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from pipeline.cli.common import console, dump, err, settings
from pipeline.config.settings import Settings
from pipeline.sources.health import health_row

feeds_app = typer.Typer(help="Feed health (default), OPML import and export.",
                        invoke_without_command=True)


def _feed_states(cfg: Settings) -> dict[str, dict[str, Any]]:
    from pipeline.storage.sqlite.store import SqliteStore

    if cfg.backend == "kafka":
        from pipeline.runtime.kafka.poller import poller_state_path
        path = poller_state_path(cfg)
    else:
        path = cfg.db_path
    if not path.exists():
        return {}
    store = SqliteStore(path)
    try:
        return store.feed_states()
    finally:
        store.close()


@feeds_app.callback()
def health(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Feed health: url, title, state (ok/failing/stale/gone/new), last success, failures,
    last error, items per day, items ingested. Example: newswire feeds --json"""
    if ctx.invoked_subcommand:
        return
    cfg = settings(alerts=False)
    known = _feed_states(cfg)
    rows = [health_row(f.url, f.name, known.get(f.url, {})) for f in cfg.feeds]
    if as_json:
        dump({"feeds": rows})
        return
    table = Table("state", "title", "url", "items/day", "items", "failures", "last error")
    for r in rows:
        table.add_row(r["state"], str(r["title"] or ""), r["url"],
                      "" if r["items_per_day"] is None else f"{r['items_per_day']:.1f}",
                      str(r["items_total"]), str(r["failures"]), str(r["last_error"] or ""))
    console.print(table)


@feeds_app.command("import")
def import_opml(
    file: Annotated[Path, typer.Argument(help="An OPML file (e.g. exported from a feed "
                                         "reader).", exists=True, dir_okay=False)],
) -> None:
    """Add every feed of an OPML file to config/feeds.yaml (feeds already listed are kept
    as they are). Example: newswire feeds import subscriptions.opml"""
    from pipeline.config.files import append_feeds
    from pipeline.sources.errors import FeedError
    from pipeline.sources.opml import read_opml

    cfg = settings(alerts=False)
    try:
        found = read_opml(file.read_bytes())
    except FeedError as exc:
        err.print(f"[red]{file}:[/red] {exc}")
        raise typer.Exit(1) from exc
    added = append_feeds(cfg.config_dir / "feeds.yaml", found)
    err.print(f"{len(found)} feeds in {file}, {len(added)} added to "
              f"{cfg.config_dir / 'feeds.yaml'}, {len(found) - len(added)} already listed")


@feeds_app.command("export")
def export_opml() -> None:
    """The configured feeds as OPML 2.0 on stdout. Example: newswire feeds export > feeds.opml"""
    from pipeline.sources.opml import write_opml

    sys.stdout.write(write_opml(settings(alerts=False).feeds) + "\n")
