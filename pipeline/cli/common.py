"""What every ``newswire`` sub-command shares: the consoles, the settings from the root
command's global options, the search store of the configured backend, JSON output.

Settings come from the root options (``--config``, ``--data-dir``, ``--backend``), which
the root callback stores in ``root``. A bad configuration stops with
the reason and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.config.settings import Settings, load_settings
from pipeline.errors import ConfigError
from pipeline.storage.base import IdKind, SearchStore
from pipeline.storage.sqlite.datadir import data_dir_problem

console = Console()
err = Console(stderr=True, soft_wrap=True, highlight=False)


@dataclass
class RootOptions:
    """The root command's global options, set by its callback before any sub-command runs."""

    config: Path | None = None
    data_dir: Path | None = None
    backend: str | None = None


root = RootOptions()


def settings(backend: str | None = None, *, alerts: bool = True) -> Settings:
    """The validated settings; ``alerts=False`` for commands that do not use alert rules.
    An unusable data directory (a file in its place, no permission, a damaged database)
    stops here with the path and what to do, before any command opens the store."""
    try:
        cfg = load_settings(root.config, data_dir=root.data_dir,
                            backend=backend or root.backend, alerts=alerts)
    except ConfigError as exc:
        err.print(f"[red]config error:[/red] {escape(str(exc))}", markup=True)
        raise typer.Exit(2) from exc
    problem = data_dir_problem(cfg.data_dir, cfg.db_path if cfg.backend == "embedded" else None)
    if problem:
        raise fail(escape(problem))
    return cfg


def open_store(cfg: Settings) -> SearchStore:
    """The search store of the configured backend (SQLite file or Elasticsearch)."""
    if cfg.backend == "kafka":
        from pipeline.storage.elasticsearch.setup import search_store
        return search_store(cfg)
    from pipeline.storage.sqlite.store import SqliteStore
    try:
        return SqliteStore(cfg.db_path)
    except ConfigError as exc:
        raise fail(escape(str(exc))) from exc


def id_column(table: Table, header: str) -> None:
    """A column of ids, shown whole on any terminal width (never cut to ``s-505e…``): it
    does not wrap, and folds onto a second line only if nothing else can give way."""
    table.add_column(header, no_wrap=True, overflow="fold", min_width=8)


def resolve_id(store: SearchStore, kind: IdKind, given: str, hint: str) -> str:
    """The one id that starts with ``given`` (a unique prefix, as git takes one); exits 1
    naming the candidates when several do, or with ``hint`` when none does."""
    found = store.ids_with_prefix(kind, given, limit=11)
    word = {"articles": "article", "stories": "story"}[kind]
    if not found:
        raise fail(escape(f"no {word} with id {given!r} or an id starting with it: {hint}"),
                   code=1)
    if len(found) > 1:
        many = "more than 10" if len(found) > 10 else str(len(found))
        shown = "".join(f"\n  {i}" for i in found[:10]) + ("\n  …" if len(found) > 10 else "")
        raise fail(escape(f"{given!r} is the start of {many} {kind} ids; give more of it:"
                          f"{shown}"), code=1)
    return found[0]


def dump(value: Any) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(value, default=str, ensure_ascii=False) + "\n")


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr; raise the returned Exit."""
    err.print(f"[red]error:[/red] {message}", markup=True)
    return typer.Exit(code)
