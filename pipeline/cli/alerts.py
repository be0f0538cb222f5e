"""``newswire alerts``: alert rules (config/alerts.yaml of --config) and the alerts that fired.

    newswire alerts add NAME --query Q [--channel SPEC]... [--mode new|update|digest]
                                 [--since 24h]   also fire on the stories stored since then
    newswire alerts list [--json]          the rules
    newswire alerts remove NAME
    newswire alerts log [--json]           every alert: state, and the reason if dead-lettered
    newswire alerts test QUERY [--json]    recent stories that would have fired
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from pipeline.cli.common import console, dump, fail, id_column, open_store, settings
from pipeline.config.files import alert_rules, delete_alert_rule, save_alert_rule
from pipeline.config.rules import rule_problem
from pipeline.config.settings import Settings
from pipeline.errors import ConfigError, QuerySyntaxError
from pipeline.models import AlertEvent, AlertRule, EnrichedArticle, Story, utcnow
from pipeline.processing.alerts import unmet_condition
from pipeline.storage.base import SearchHit, SearchStore
from pipeline.web.format import iso

alerts_app = typer.Typer(help="Alert rules and the alerts that fired.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]


def _alerts_file() -> Path:
    return settings(alerts=False).config_dir / "alerts.yaml"


def check_rule(values: dict[str, Any], topics: Collection[str] | None = None) -> AlertRule:
    """A rule from user input, or a typer.Exit with what is wrong and how to fix it."""
    try:
        rule = AlertRule.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors())
        raise fail(f"invalid rule: {problems}") from exc
    problem = rule_problem(rule, topics)
    if problem:
        option = {"query": "--query", "channels": "--channel", "topics": "--topic"}[problem[0]]
        raise fail(f"invalid {option}: {problem[1]}")
    return rule


def _rules(path: Path) -> list[dict[str, Any]]:
    try:
        return alert_rules(path)
    except ConfigError as exc:
        raise fail(str(exc)) from exc


@alerts_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Rule name: letters, digits, . _ -")],
    query: Annotated[str, typer.Option("--query", "-q", help='Lucene syntax, e.g. '
                                       '\'ukraine AND "security agreement"\'')],
    channel: Annotated[list[str] | None, typer.Option(
        "--channel", "-c", help="console, jsonl:PATH, webhook:URL, slack:URL, email:ADDRESS, "
        "atom[:PATH]; repeat for several (default console)")] = None,
    mode: Annotated[str, typer.Option(help="new (once per story), update (again when the "
                                      "story grows), digest (one message per period)")] = "new",
    description: Annotated[str | None, typer.Option(help="What the rule watches.")] = None,
    min_sources: Annotated[int, typer.Option(help="Fire once the story has this many "
                                             "sources.")] = 1,
    topic: Annotated[list[str] | None, typer.Option(help="Require one of these topics.")] = None,
    language: Annotated[list[str] | None, typer.Option(help="Require one of these article "
                                                       "languages (e.g. en).")] = None,
    grow_by: Annotated[int, typer.Option(help="update: new sources to fire again.")] = 2,
    throttle: Annotated[str, typer.Option(help="update: at most once per (30m, 1h, 1d).")] =
    "1h",
    digest_every: Annotated[str, typer.Option(help="digest: hourly or daily.")] = "daily",
    digest_at: Annotated[str, typer.Option(help="digest: daily time HH:MM UTC.")] = "08:00",
    secret_env: Annotated[str | None, typer.Option(
        help="Environment variable holding the HMAC key for webhook channels.")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite a rule of that "
                                          "name.")] = False,
    since: Annotated[str | None, typer.Option(
        help="Also fire the rule now on the stored stories seen in this period that it "
        "matches (30m, 24h, 2d), once each, as `alerts test` finds them.")] = None,
    backend: Annotated[str | None, typer.Option("--backend", help="embedded or kafka "
                                                "(where --since looks)")] = None,
) -> None:
    """Add an alert rule to config/alerts.yaml; a running `run` or worker takes it up.
    Example: newswire alerts add pact --query 'ukraine AND topic:security-pacts'
    --channel console --channel jsonl:a.jsonl --since 24h"""
    values: dict[str, Any] = {"name": name, "query": query, "channels": channel or ["console"],
                              "mode": mode, "description": description,
                              "min_sources": min_sources, "topics": topic or [],
                              "languages": language or [], "grow_by": grow_by,
                              "throttle": throttle, "digest_every": digest_every,
                              "digest_at": digest_at, "secret_env": secret_env}
    period = _period(since) if since is not None else None
    cfg = settings(alerts=False)
    rule = check_rule(values, [t.name for t in cfg.topics])
    path = cfg.config_dir / "alerts.yaml"
    if any(r.get("name") == name for r in _rules(path)) and not replace:
        raise fail(f"a rule named {name!r} exists in {path}: pick another name or --replace")
    record = rule.model_dump(mode="json", exclude_defaults=True)
    record["channels"] = rule.channels
    try:
        save_alert_rule(path, record)  # round trip: the file's comments are kept
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"added rule {name} ({rule.mode}) to {path}")
    if period is not None:
        _fire_since(settings(backend), name, period, since or "")


def _period(since: str) -> timedelta:
    try:
        seconds = float(AlertRule.model_validate({"name": "x", "query": "x",
                                                  "throttle": since}).throttle)
    except ValidationError as exc:
        raise fail(f"invalid --since {since!r}: give a period such as 30m, 24h or 2d") \
            from exc
    return timedelta(seconds=seconds)


def _fire_since(cfg: Settings, name: str, period: timedelta, since: str) -> None:
    """Fire the new rule on the stored stories seen in ``period`` that it matches."""
    from pipeline.runtime.backfill import fire_on_stored

    rule = next(r for r in cfg.rules if r.name == name)
    cutoff = utcnow() - period
    store = open_store(cfg)
    try:
        by_story: dict[str, SearchHit] = {}
        for hit in sorted(store.search(rule.query, limit=1000),
                          key=lambda h: (h.published is None, h.published)):
            by_story.setdefault(hit.story_id, hit)
        found = [(_article(store, hit), story) for story_id, hit in by_story.items()
                 if (story := _story(store, story_id, hit)).last_seen >= cutoff]
    finally:
        store.close()
    events = asyncio.run(fire_on_stored(cfg, rule, found))
    stories = {e.story_id for e in events}
    failed = sum(e.state == "failed" for e in events)
    typer.echo(f"fired {name} on {len(stories)} stored stor{'y' if len(stories) == 1 else 'ies'}"
               f" seen in the last {since}" + (f" ({failed} deliveries failed: newswire alerts "
                                                "log)" if failed else ""))


@alerts_app.command("list")
def list_rules(as_json: JsonOpt = False) -> None:
    """The alert rules: name, mode, query, channels, conditions. Example: newswire alerts
    list --json"""
    rules = settings().rules
    if as_json:
        dump({"rules": [r.model_dump(mode="json") for r in rules]})
        return
    table = Table("name", "mode", "query", "channels", "conditions")
    for r in rules:
        cond = [f"min_sources {r.min_sources}"] if r.min_sources > 1 else []
        cond += [f"topics {','.join(r.topics)}"] if r.topics else []
        cond += [f"languages {','.join(r.languages)}"] if r.languages else []
        table.add_row(r.name, r.mode, r.query, "\n".join(r.channels), "; ".join(cond))
    console.print(table if rules else "no alert rules")


@alerts_app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="The rule's name (see alerts list).")]
           ) -> None:
    """Remove an alert rule from config/alerts.yaml. Example: newswire alerts remove pact"""
    path = _alerts_file()
    rules = _rules(path)
    if not any(r.get("name") == name for r in rules):
        known = ", ".join(str(r.get("name")) for r in rules) or "none"
        raise fail(f"no rule named {name!r} in {path} (rules: {known})", code=1)
    try:
        delete_alert_rule(path, name)  # round trip: the file's comments are kept
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"removed rule {name} from {path}")


def log_record(e: AlertEvent) -> dict[str, Any]:
    return {"rule": e.rule, "story_id": e.story_id, "event": e.event, "kind": e.kind,
            "article_id": e.article_id, "headline": e.headline, "fired": iso(e.fired),
            "channel": e.channel, "state": e.state, "error": e.error,
            "dead_lettered": e.state == "failed", "attempts": e.attempts,
            "stories": [s.story_id for s in e.stories]}


@alerts_app.command("log")
def alerts_log(
    as_json: JsonOpt = False,
    backend: Annotated[str | None, typer.Option("--backend", help="embedded or kafka")] = None,
) -> None:
    """The alerts that fired: rule, story, event, time, channel, delivery state, and for a
    dead-lettered delivery its reason. Example: newswire alerts log --json"""
    records = [log_record(e) for e in open_store(settings(backend, alerts=False)).alert_log()]
    if as_json:
        dump({"alerts": records})
        return
    table = Table("fired", "rule")
    id_column(table, "story")
    for header in ("event", "headline", "channel", "state"):
        table.add_column(header)
    for r in records:
        state = "dead-lettered" if r["dead_lettered"] else r["state"]
        table.add_row(r["fired"][:19], r["rule"], r["story_id"], r["event"], r["headline"],
                      r["channel"], state)
    console.print(table if records else "no alerts yet")
    for r in (r for r in records if r["dead_lettered"]):
        console.print(f"dead-lettered: {r['rule']} story {r['story_id']} ({r['event']}) on "
                      f"{r['channel']}: {r['error']}", markup=False, highlight=False,
                      soft_wrap=True)


def _article(store: SearchStore, hit: SearchHit) -> EnrichedArticle:
    return store.article(hit.id) or EnrichedArticle(
        id=hit.id, url=hit.url, title=hit.title, text="", source=hit.source,
        published=hit.published, topics=hit.topics, story_id=hit.story_id)


@alerts_app.command("test")
def test(
    query: Annotated[str, typer.Argument(help="Lucene syntax, as in a rule.")],
    min_sources: Annotated[int, typer.Option(help="As the rule condition.")] = 1,
    topic: Annotated[list[str] | None, typer.Option(help="As the rule condition.")] = None,
    language: Annotated[list[str] | None, typer.Option(help="As the rule condition.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Most recent stories to show.")] = 20,
    as_json: JsonOpt = False,
    backend: Annotated[str | None, typer.Option("--backend", help="embedded or kafka")] = None,
) -> None:
    """Which recent stories in the store would have fired for QUERY (and the conditions).
    Example: newswire alerts test 'ukraine AND topic:security-pacts' --min-sources 2"""
    cfg = settings(backend, alerts=False)
    rule = check_rule({"name": "test", "query": query, "min_sources": min_sources,
                       "topics": topic or [], "languages": language or []},
                      [t.name for t in cfg.topics])
    store = open_store(cfg)
    try:
        hits = store.search(query, limit=max(200, limit * 10))
    except QuerySyntaxError as exc:
        raise fail(f"invalid query {query!r}: {exc}") from exc
    by_story: dict[str, SearchHit] = {}
    for hit in sorted(hits, key=lambda h: (h.published is None, h.published)):
        by_story.setdefault(hit.story_id, hit)
    stories: list[dict[str, Any]] = []
    for story_id, hit in by_story.items():
        story = _story(store, story_id, hit)
        why = unmet_condition(rule, _article(store, hit), story)
        stories.append({"story_id": story.id, "headline": story.headline,
                        "sources": len(set(story.sources)), "first_match": hit.id,
                        "first_match_title": hit.title, "last_seen": iso(story.last_seen),
                        "would_fire": why is None, "why_not": why})
    stories = sorted(stories, key=lambda s: s["last_seen"], reverse=True)[:limit]
    if as_json:
        dump({"query": query, "stories": stories})
        return
    table = Table()
    id_column(table, "story")
    for header in ("headline", "sources", "first match", "would fire"):
        table.add_column(header)
    for s in stories:
        table.add_row(s["story_id"], s["headline"], str(s["sources"]), s["first_match_title"],
                      "yes" if s["would_fire"] else f"no: {s['why_not']}")
    console.print(table if stories else "no stored story matches")


def _story(store: SearchStore, story_id: str, hit: SearchHit) -> Story:
    found = store.story(story_id)
    if found is not None:
        return found
    when = hit.published or EnrichedArticle.model_fields["fetched"].get_default(
        call_default_factory=True)
    return Story(id=story_id, headline=hit.title, headline_article=hit.id, article_ids=[hit.id],
                 sources=[hit.source], topics=hit.topics, first_seen=when, last_seen=when)
