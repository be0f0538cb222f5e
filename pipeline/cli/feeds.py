"""``newswire feeds``: feed health, OPML import and export.

    newswire feeds [--json]           health per feed (state ok/failing/stale/gone/new)
    newswire feeds import FILE.opml   add the OPML's feeds to config/feeds.yaml (checked,
                                      deduped by canonical URL, folders kept as groups)
    newswire feeds export             the configured feeds as OPML 2.0 on stdout
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from pipeline.cli.common import console, dump, err, fail, settings
from pipeline.config.settings import Settings
from pipeline.sources.health import health_row

feeds_app = typer.Typer(help="Feed health (default), OPML import and export.",
                        invoke_without_command=True)


def _feed_states(cfg: Settings) -> dict[str, dict[str, Any]]:
    from pipeline.errors import ConfigError
    from pipeline.storage.sqlite.store import SqliteStore

    if cfg.backend == "kafka":
        from pipeline.runtime.kafka.poller import poller_state_path
        path = poller_state_path(cfg)
    else:
        path = cfg.db_path
    if not path.exists():
        return {}
    try:
        store = SqliteStore(path)
    except ConfigError as exc:
        raise fail(escape(str(exc))) from exc
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
    """Add every feed of an OPML file to config/feeds.yaml, its folder kept as the feed's
    group. A feed already listed (under any spelling of its URL) is left as it is; an
    outline whose URL the config would refuse (ftp://, javascript:) is reported and
    skipped; comments in feeds.yaml are kept. Example: newswire feeds import subs.opml"""
    from pipeline.config.files import append_feeds
    from pipeline.errors import ConfigError
    from pipeline.sources.errors import FeedError
    from pipeline.sources.opml import check_outlines, read_opml

    cfg = settings(alerts=False)
    path = cfg.config_dir / "feeds.yaml"
    try:
        found = read_opml(file.read_bytes())
    except FeedError as exc:
        err.print(f"[red]{file}:[/red] {exc}")
        raise typer.Exit(1) from exc
    new, refused, listed = check_outlines(found, [f.url for f in cfg.feeds], cfg.config_dir)
    for message in refused:
        err.print(f"[yellow]{file}:[/yellow] {escape(message)}")
    try:
        added = append_feeds(path, new)
    except ConfigError as exc:
        raise fail(escape(str(exc))) from exc
    err.print(f"{len(found)} feeds in {file}: {len(added)} added to {path}, {listed} already "
              f"listed, {len(refused)} refused")
    if refused and len(refused) == len(found):  # nothing in the file was usable
        raise typer.Exit(1)


@feeds_app.command("export")
def export_opml() -> None:
    """The configured feeds as OPML 2.0 on stdout, groups as folders, local files as
    file:// URLs (it imports again anywhere). Example: newswire feeds export > feeds.opml"""
    from pipeline.sources.opml import write_opml

    sys.stdout.write(write_opml(settings(alerts=False).feeds) + "\n")
