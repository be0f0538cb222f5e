"""The FastAPI app: HTML pages, the JSON API, health, metrics, security headers, token.

    GET /                  search page: query language, filters, facets, hits by story
    GET /story/{id}        a story's timeline across sources
    GET /alerts, /feeds    alert rules and fired alerts; feed health
    GET /dead-letters      what could not be processed (pipeline.web.dead_letters)
    GET /api/...           the same as JSON (OpenAPI description at /openapi.json)
    GET /healthz /readyz   liveness; readiness (the store answers)
    GET /metrics           Prometheus text format (pipeline.metrics)

Article content is untrusted. Templates autoescape and never mark content safe; snippets
are escaped before <mark> goes in (highlight.py); every answer carries a strict
Content-Security-Policy (scripts only from /static, no inline script or handlers).
With a token (required off 127.0.0.1), every path but /healthz and /readyz asks for it:
``Authorization: Bearer T``, or ``?token=T`` once in a browser (kept in a cookie).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import jinja2
from fastapi import FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline import metrics
from pipeline.config.settings import Settings
from pipeline.errors import QuerySyntaxError
from pipeline.models import Story
from pipeline.storage.base import SearchStore
from pipeline.web.dead_letters import DeadLettersView, dead_store_of, held_counts
from pipeline.web.format import evidence_values, plural, when
from pipeline.web.highlight import marked, plain, safe_href
from pipeline.web.service import (
    AlertsView,
    FeedHealth,
    Reader,
    SearchPage,
    Timeline,
)

HERE = Path(__file__).resolve().parent
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
OPEN_PATHS = ("/healthz", "/readyz")
COOKIE = "newswire_token"
LATEST = 20  # stories shown by an empty search

Q = Annotated[str | None, Query(max_length=2000, description="Lucene syntax, e.g. "
                                '"frozen assets" or NATO AND membership')]
Filter = Annotated[str | None, Query(max_length=200)]
Since = Annotated[str | None, Query(max_length=40, description="YYYY-MM-DD or now-7d")]
Page = Annotated[int, Query(ge=1, le=500)]
Limit = Annotated[int, Query(ge=1, le=100)]


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters.update(marked=marked, plain=plain, href=safe_href, plural=plural,
                       evidence=evidence_values,
                       day=lambda d: when(d, empty="undated"), when=when)
    return Jinja2Templates(env=env)


def _link(path: str, params: dict[str, Any], **changes: Any) -> str:
    merged = {**params, **changes}
    kept = {k: v for k, v in merged.items()
            if v not in (None, "") and not (k == "page" and v == 1)}
    return path + ("?" + urlencode(kept) if kept else "")


def create_app(store: SearchStore, settings: Settings, token: str | None = None,
               feed_states: Callable[[], dict[str, dict[str, Any]]] | None = None) -> FastAPI:
    """The app over ``store``; ``token`` (if any) is asked of every request but health;
    ``feed_states`` reads feed health where the store does not keep it (Kafka mode)."""
    reader = Reader(store, settings, feed_states)
    dead = dead_store_of(store)
    templates = _templates()
    app = FastAPI(title="newswire", version="0.1.0", docs_url=None, redoc_url=None,
                  description="Search news stories: the query language, facets, stories, "
                  "alerts, feed health.")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(HeadAsGet)

    @app.middleware("http")
    async def guard(request: Request,
                    call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        set_cookie = False
        if token and request.url.path not in OPEN_PATHS:
            offered = _offered(request)
            if offered is None or not hmac.compare_digest(offered.encode(), token.encode()):
                response: Response = PlainTextResponse(
                    "a token is required: Authorization: Bearer <token>, or ?token=<token>",
                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
                response.headers.update(HEADERS)
                return response
            set_cookie = request.query_params.get("token") is not None
        response = await call_next(request)
        response.headers.update(HEADERS)
        if set_cookie and token:
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return response

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, context, status_code=status)

    def run_search(q: str | None, topic: str | None, source: str | None, lang: str | None,
                   since: str | None, page_no: int, limit: int) -> SearchPage:
        started = time.perf_counter()
        try:
            return reader.search(q, topic=topic, source=source, lang=lang, since=since,
                                 page=page_no, limit=limit)
        finally:
            metrics.SEARCH_SECONDS.observe(time.perf_counter() - started)

    # -- pages ---------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request, q: Q = None, topic: Filter = None,
                    source: Filter = None, lang: Filter = None, since: Since = None,
                    page_no: Annotated[int, Query(alias="page", ge=1, le=500)] = 1,
                    limit: Limit = 20) -> HTMLResponse:
        params = {"q": q or "", "topic": topic, "source": source, "lang": lang,
                  "since": since, "limit": limit if limit != 20 else None}
        context: dict[str, Any] = {"params": params, "result": None, "error": None,
                                   "latest": None,
                                   "link": lambda **c: _link("/", params, **c),
                                   "title": q or "search"}
        if not any((q, topic, source, lang, since)):
            with reader.lock:
                context["latest"] = store.stories()[:LATEST]
            return page(request, "search.html", **context)
        try:
            context["result"] = run_search(q, topic, source, lang, since, page_no, limit)
        except QuerySyntaxError as exc:
            context["error"] = str(exc)
            return page(request, "search.html", status=400, **context)
        return page(request, "search.html", **context)

    @app.get("/story/{story_id}", response_class=HTMLResponse, include_in_schema=False)
    def story_page(request: Request, story_id: str) -> HTMLResponse:
        found = reader.timeline(story_id)
        if found is None:
            return page(request, "missing.html", status=404, title="no such story",
                        what=f"no story with id {story_id}")
        return page(request, "story.html", story=found, title=found.headline)

    @app.get("/alerts", response_class=HTMLResponse, include_in_schema=False)
    def alerts_page(request: Request) -> HTMLResponse:
        return page(request, "alerts.html", view=reader.alerts(), title="alerts")

    @app.get("/feeds", response_class=HTMLResponse, include_in_schema=False)
    def feeds_page(request: Request) -> HTMLResponse:
        return page(request, "feeds.html", feeds=reader.feeds(), title="feeds")

    def dead_letters(stage: str | None, since: str | None) -> DeadLettersView | None:
        """Raises QuerySyntaxError for a ``since`` that is not a time."""
        from pipeline.storage.dead import since_moment

        start = since_moment(since) if since else None
        if dead is None:
            return None
        with reader.lock:
            return DeadLettersView(dead_letters=dead.dead_rows(stage or None, start))

    @app.get("/dead-letters", response_class=HTMLResponse, include_in_schema=False)
    def dead_letters_page(request: Request, stage: Filter = None,
                          since: Since = None) -> HTMLResponse:
        try:
            view, error = dead_letters(stage, since), None
        except QuerySyntaxError as exc:
            view, error = dead_letters(stage, None), f"since: {exc}"
        return page(request, "dead_letters.html", title="dead letters", stage=stage,
                    since=since, error=error, letters=view.dead_letters if view else None)

    # -- JSON API ------------------------------------------------------------------------
    @app.get("/api/search", response_model=SearchPage,
             responses={400: {"description": "The query does not parse (detail says where)"}})
    def api_search(q: Q = None, topic: Filter = None, source: Filter = None,
                   lang: Filter = None, since: Since = None,
                   page_no: Annotated[int, Query(alias="page", ge=1, le=500)] = 1,
                   limit: Limit = 20) -> SearchPage:
        """Search with the query language; filters are ANDed on; hits grouped by story."""
        try:
            return run_search(q, topic, source, lang, since, page_no, limit)
        except QuerySyntaxError as exc:
            raise HTTPException(400, str(exc)) from exc

    @app.get("/api/stories", response_model=list[Story])
    def api_stories(limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[Story]:
        """Stories, most recently updated first."""
        with reader.lock:
            return store.stories()[:limit]

    @app.get("/api/stories/{story_id}", response_model=Timeline,
             responses={404: {"description": "No such story"}})
    def api_story(story_id: str) -> Timeline:
        """A story's articles by time, across sources, near-copies marked."""
        found = reader.timeline(story_id)
        if found is None:
            raise HTTPException(404, f"no story with id {story_id}")
        return found

    @app.get("/api/alerts", response_model=AlertsView)
    def api_alerts() -> AlertsView:
        """Alert rules and the alerts that fired (newest first)."""
        return reader.alerts()

    @app.get("/api/feeds", response_model=list[FeedHealth] | None)
    def api_feeds() -> list[FeedHealth] | None:
        """Health of each configured feed (null where the backend keeps none here)."""
        return reader.feeds()

    @app.get("/api/dead-letters", response_model=DeadLettersView | None,
             responses={400: {"description": "since is not a time"}})
    def api_dead_letters(stage: Filter = None, since: Since = None) -> DeadLettersView | None:
        """Dead letters, newest first: key, stage, reason, at, source, preview (null where
        the backend keeps none here)."""
        try:
            return dead_letters(stage, since)
        except QuerySyntaxError as exc:
            raise HTTPException(400, str(exc)) from exc

    # -- operations ----------------------------------------------------------------------
    @app.get("/healthz", response_class=PlainTextResponse)
    def healthz() -> str:
        """The process answers."""
        return "ok"

    @app.get("/readyz", responses={503: {"description": "The store does not answer"}})
    def readyz() -> JSONResponse:
        """The search store answers."""
        ok = reader.ready()
        return JSONResponse({"ready": ok}, status_code=200 if ok else 503)

    @app.get("/metrics", response_class=PlainTextResponse)
    def prometheus() -> Response:
        """Prometheus metrics (articles per stage, errors, alert deliveries, search time)."""
        with reader.lock:
            held = metrics.held_dead_letters(held_counts(dead))
        return Response(generate_latest() + held, media_type=CONTENT_TYPE_LATEST)

    return app


class HeadAsGet:
    """``HEAD`` answers like ``GET`` without the body (RFC 9110 §9.3.2), for every GET
    route at once; FastAPI routes answer GET only, so ``HEAD /`` would be 405."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


def _offered(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.query_params.get("token") or request.cookies.get(COOKIE)
