"""Settings for CLI sub-commands, from the root command's global options.

Read from the typer context (``--config``, ``--data-dir``, ``--backend``), so they apply
however the CLI was started. A bad configuration stops with the reason, exit code 2.
"""

from __future__ import annotations

import typer
from rich.console import Console

from pipeline.config.settings import Settings, load_settings
from pipeline.errors import ConfigError

err = Console(stderr=True, soft_wrap=True, highlight=False)


def settings(ctx: typer.Context, backend: str | None = None) -> Settings:
    params = ctx.find_root().params
    try:
        return load_settings(params.get("config"), data_dir=params.get("data_dir"),
                             backend=backend or params.get("backend"))
    except ConfigError as exc:
        err.print(f"[red]config error:[/red] {exc}")
        raise typer.Exit(2) from exc
