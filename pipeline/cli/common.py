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

from pipeline.config.settings import Settings, load_settings
from pipeline.errors import ConfigError
from pipeline.storage.base import SearchStore

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
    """The validated settings; ``alerts=False`` for commands that do not use alert rules."""
    try:
        return load_settings(root.config, data_dir=root.data_dir,
                             backend=backend or root.backend, alerts=alerts)
    except ConfigError as exc:
        err.print(f"[red]config error:[/red] {exc}", markup=True)
        raise typer.Exit(2) from exc


def open_store(cfg: Settings) -> SearchStore:
    """The search store of the configured backend (SQLite file or Elasticsearch)."""
    if cfg.backend == "kafka":
        from pipeline.storage.elasticsearch.setup import search_store
        return search_store(cfg)
    from pipeline.storage.sqlite.store import SqliteStore
    return SqliteStore(cfg.db_path)


def dump(value: Any) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(value, default=str, ensure_ascii=False) + "\n")


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr; raise the returned Exit."""
    err.print(f"[red]error:[/red] {message}", markup=True)
    return typer.Exit(code)
