"""``newswire init [DIR]``: a commented starter config, from the defaults in the package.

    newswire init                 writes ./config (newswire.yaml, feeds.yaml, topics.yaml,
                                  alerts.yaml and two offline sample feeds)
    newswire init ~/news/config   anywhere; then run with --config ~/news/config
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.cli.common import err, fail, root
from pipeline.config.files import write_starter_config
from pipeline.errors import ConfigError


def init(
    directory: Annotated[Path | None, typer.Argument(
        help="Where to write the config (default: --config, else ./config).",
        metavar="[DIR]")] = None,
) -> None:
    """Write a commented starter config (settings, sample feeds, topics, alert rules);
    existing files are never overwritten. Example: newswire init ~/newswire/config"""
    target = directory or root.config or Path("config")
    try:
        written = write_starter_config(target)
    except ConfigError as exc:
        raise fail(escape(str(exc)), code=1) from exc
    for path in written:
        err.print(f"wrote {escape(str(path))}")
    option = "" if target.resolve() == Path("config").resolve() else \
        f" --config {escape(str(target))}"
    err.print(f"next: edit {escape(str(target / 'feeds.yaml'))} (the samples work offline), "
              f"then `newswire{option} run --once`")
