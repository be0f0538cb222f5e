"""``newswire setup`` and ``newswire kibana``: the search side of the Kafka backend.

    newswire setup [--kibana URL]        index templates and aliased indices in Elasticsearch
                                         (idempotent), then Kibana's saved objects if a URL
    newswire kibana import [--url U]     data views, saved searches, dashboard into Kibana
    newswire kibana write FILE           the saved objects as NDJSON (config/kibana/)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.common import err, settings
from pipeline.errors import SinkUnavailable

kibana_app = typer.Typer(help="Kibana: import or write newswire's saved objects.",
                         no_args_is_help=True)
WaitOpt = Annotated[float, typer.Option("--wait", min=0, help="Seconds to wait for the "
                                        "service to come up.")]


def _import(url: str, wait: float) -> None:
    from pipeline.storage.elasticsearch.kibana import import_kibana, ndjson

    cfg = settings()
    body = ndjson(cfg.topics, cfg.rules)
    try:
        import_kibana(url.rstrip("/"), body, wait=wait)
    except SinkUnavailable as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    err.print(f"imported {len(body.splitlines())} saved objects into {url}")


def setup(
    kibana: Annotated[str | None, typer.Option("--kibana", help="Kibana's URL: also import "
                                               "the saved objects.")] = None,
    wait: WaitOpt = 300.0,
) -> None:
    """Install the Elasticsearch index templates and indices (idempotent), and with --kibana
    import Kibana's saved objects. Example: newswire setup --kibana http://kibana:5601"""
    from pipeline.storage.elasticsearch.setup import setup_elasticsearch

    cfg = settings("kafka")
    try:
        setup_elasticsearch(cfg, wait=wait)
    except SinkUnavailable as exc:
        err.print(f"[red]elasticsearch at {cfg.elasticsearch}: {exc}[/red]")
        raise typer.Exit(1) from exc
    err.print(f"elasticsearch ready at {cfg.elasticsearch} (prefix {cfg.index_prefix})")
    if kibana:
        _import(kibana, wait)


@kibana_app.command("import")
def kibana_import(
    url: Annotated[str, typer.Option("--url", help="Kibana's URL.")] = "http://127.0.0.1:5601",
    wait: WaitOpt = 60.0,
) -> None:
    """Import the data views, saved searches (per topic and alert rule) and the dashboard
    into Kibana. Example: newswire kibana import --url http://localhost:5601"""
    _import(url, wait)


@kibana_app.command("write")
def kibana_write(
    file: Annotated[Path, typer.Argument(help="Where to write, e.g. "
                                         "config/kibana/newswire.ndjson", dir_okay=False)],
) -> None:
    """Write the saved objects as NDJSON (Kibana's import format)."""
    from pipeline.storage.elasticsearch.kibana import ndjson

    cfg = settings()
    file.write_text(ndjson(cfg.topics, cfg.rules), encoding="utf-8")
    err.print(f"wrote {file}")
