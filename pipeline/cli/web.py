"""``newswire web`` and ``newswire story``.

    newswire web [--host H] [--port P]   the search page + JSON API (127.0.0.1:8000);
                                         off loopback a token is required (env
                                         NEWSWIRE_WEB_TOKEN)
    newswire story ID [--json]           a story's timeline: articles by time, source,
                                         near-copies marked
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from pipeline.cli.common import (
    console,
    dump,
    err,
    id_column,
    open_store,
    resolve_id,
    settings,
)
from pipeline.config.settings import Settings

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

LOOPBACK = ("127.0.0.1", "localhost", "::1")
TOKEN_ENV = "NEWSWIRE_WEB_TOKEN"

HostOpt = Annotated[str, typer.Option("--host", help="Address to bind; anything but "
                                      "127.0.0.1/localhost/::1 requires a token.")]
PortOpt = Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port.")]
TokenOpt = Annotated[str | None, typer.Option(
    "--token", envvar=TOKEN_ENV, show_envvar=True,
    help=f"Access token asked of every request (prefer the env var {TOKEN_ENV}).")]


def check_token(host: str, token: str | None) -> str | None:
    """The token to enforce; exits with a message when binding off loopback without one."""
    if host not in LOOPBACK and not token:
        err.print(f"[red]refusing to serve on {host} without a token:[/red] set {TOKEN_ENV} "
                  "(clients send Authorization: Bearer <token>, or ?token= once in a browser)"
                  ", or bind 127.0.0.1")
        raise typer.Exit(2)
    return token or None


def build_app(cfg: Settings, token: str | None) -> FastAPI:
    """The web app over the configured backend's store (its own connection)."""
    from pipeline.web.app import create_app

    feed_states = None
    if cfg.backend == "kafka":
        from pipeline.cli.feeds import _feed_states

        def feed_states() -> dict[str, dict[str, Any]]:
            return _feed_states(cfg)
    return create_app(open_store(cfg), cfg, token=token, feed_states=feed_states)


def server(app: FastAPI, host: str, port: int, *, own_signals: bool = True) -> uvicorn.Server:
    """A uvicorn server; ``own_signals=False`` leaves SIGINT/SIGTERM to the caller
    (``newswire run --web`` stops it with ``should_exit``)."""
    import contextlib

    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            server_header=False)
    srv = uvicorn.Server(config)
    if not own_signals:
        srv.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    return srv


def web(host: HostOpt = "127.0.0.1", port: PortOpt = 8000,
        token: TokenOpt = None) -> None:
    """Serve the search page and JSON API: facets, stories, alerts, feed health, /metrics.

    Example: newswire web --port 8000, then open http://127.0.0.1:8000/"""
    token = check_token(host, token)
    cfg = settings()
    app = build_app(cfg, token)
    srv = server(app, host, port)
    err.print(f"newswire web on http://{host}:{port}/ ({cfg.backend} backend"
              f"{', token required' if token else ''})")
    srv.run()


def story(
    story_id: Annotated[str, typer.Argument(help="A story id, or its first characters if no "
                                            "other id starts so (see `newswire stories` or "
                                            "`search --by-story`).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
    = False,
) -> None:
    """A story's timeline: its articles by time, with source and near-copies marked.

    Example: newswire story s-7ca28d --json (a unique prefix of the id is enough)"""
    from pipeline.web.format import plural
    from pipeline.web.service import Reader

    cfg = settings(alerts=False)
    store = open_store(cfg)
    reader = Reader(store, cfg)
    found = reader.timeline(story_id) or reader.timeline(
        resolve_id(store, "stories", story_id, "ids are in `newswire stories`"))
    if found is None:  # removed between the two look-ups
        err.print(f"no story with id {story_id!r}: ids are in `newswire stories`")
        raise typer.Exit(1)
    if as_json:
        dump(found.model_dump(mode="json"))
        return
    console.print(f"[bold]{escape(found.headline)}[/bold]\n"
                  f"{plural(found.article_count, 'article')}, "
                  f"{plural(len(found.sources), 'source')}, {', '.join(found.topics)}",
                  highlight=False)
    table = Table("published", "source", "title", "")
    id_column(table, "id")
    for a in found.articles:
        table.add_row(a.published.strftime("%Y-%m-%d %H:%M") if a.published else "undated",
                      escape(a.source), escape(a.title),
                      f"near-copy of {a.near_copy_of}" if a.near_copy_of else "", a.id)
    console.print(table)


class web_beside:  # noqa: N801 - used as ``async with web_beside(...)``
    """``newswire run --web``: the page served on 127.0.0.1:``port`` in the running loop
    while the runtime polls; stopped when the block ends. ``port`` None: no page."""

    def __init__(self, cfg: Settings, port: int | None) -> None:
        self.cfg, self.port = cfg, port
        self.srv: uvicorn.Server | None = None
        self.task: Any = None

    async def __aenter__(self) -> web_beside:
        import asyncio

        if self.port is not None:
            self.srv = server(build_app(self.cfg, None), "127.0.0.1", self.port,
                              own_signals=False)
            self.task = asyncio.ensure_future(self.srv.serve())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.srv is not None:
            self.srv.should_exit = True
            await self.task
