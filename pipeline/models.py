"""The records that cross stages, topics and stores: the only schema newswire has.

    FeedSource ──poll──▶ RawArticle ──clean──▶ Article ──tag+cluster──▶ EnrichedArticle
                                                                 └──▶ Story, AlertEvent

Every model is pydantic v2; invalid input raises ``pydantic.ValidationError`` naming
the field. Datetimes are always timezone-aware UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator


def utcnow() -> datetime:
    return datetime.now(UTC)


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class Record(BaseModel):
    """Base: strict about unknown fields so typos in input are reported, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=True)


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")  # two letters at least: C:\ is a path


class FeedSource(Record):
    """One feed to poll: an http(s) URL or a local file path."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    url: str = Field(min_length=1)
    name: str | None = None
    group: str | None = None  # a folder of the OPML it came from, e.g. "World/Europe"
    enabled: bool = True
    fetch_full_text: bool = False
    headers: dict[str, str] | None = None  # extra request headers (e.g. a token)
    user_agent: str | None = None  # overrides the user_agent setting for this feed
    proxy: str | None = None  # e.g. http://proxy.example:3128 or socks5://...

    @field_validator("url")
    @classmethod
    def _url_like(cls, value: str) -> str:
        scheme = _SCHEME.match(value)  # javascript:, ftp://, mailto: ... (not C:\\ paths)
        if scheme and scheme.group(1).lower() not in ("http", "https", "file"):
            raise ValueError(f"feed url {value!r} must be http(s)://, file:// or a local path")
        return value


class RawArticle(Record):
    """A feed entry or archive line, before cleaning. ``html`` or ``text`` carries the body.

    ``url`` is the entry's own link, None when it has none (a GUID-only item, an Atom entry
    with a ``tag:`` id): identity then falls back to the GUID, then the content
    (pipeline.identity); ``site_url`` is the feed's site link, shown in its place."""

    id: str | None = None
    url: HttpUrl | None = None
    title: str | None = None
    html: str | None = None
    text: str | None = None
    summary: str | None = None
    author: str | None = None
    published: datetime | None = None
    source: str | None = None
    feed_url: str | None = None
    guid: str | None = None
    site_url: str | None = None
    fetched: datetime = Field(default_factory=utcnow)

    _utc = field_validator("published", "fetched")(_as_utc)

    @model_validator(mode="after")
    def _identified(self) -> RawArticle:
        if self.url is None and not self.id and not self.guid:
            raise ValueError("an article needs a url, or else an id or guid to identify it")
        return self

    @property
    def link(self) -> str | None:
        """The entry's own URL as text, None when it has none."""
        return str(self.url) if self.url is not None else None


class Article(Record):
    """A cleaned article: main text, metadata, identity. ``url`` is None for an entry
    without a link of its own; ``link`` is then its feed's site link (or None)."""

    id: str
    url: str | None = None
    title: str
    text: str
    author: str | None = None
    author_role: str | None = None  # "AP Auto Writer": the byline's role, not a name
    published: datetime | None = None
    source: str
    lang: str | None = None
    feed_url: str | None = None
    fetched: datetime = Field(default_factory=utcnow)
    site_name: str | None = None
    site_url: str | None = None
    canonical_url: str | None = None

    _utc = field_validator("published", "fetched")(_as_utc)

    @property
    def link(self) -> str | None:
        """Where a reader opens the article: its URL, else its feed's site link."""
        return self.url or self.site_url

    @property
    def timestamp(self) -> datetime:
        """When the article happened, for time windows: published, else fetched."""
        return self.published or self.fetched


class TopicMatch(Record):
    """Why a topic tag fired: the query and the matched terms with character offsets."""

    topic: str
    query: str
    evidence: list[tuple[str, int, int]] = Field(default_factory=list)  # (term, start, end)


class StoryEvidence(Record):
    """Why an article joined its story, or started one: the story decision's best match.

    ``story`` is the story compared best (the one joined, or for a new story the closest
    one, None if there was none); ``score`` the probability that the article reports its
    event; ``shared`` and ``conflicts`` the evidence by kind (who, where, when, count,
    measure, age): values found on both sides, and the article's values that disagree."""

    joined: bool
    story: str | None = None
    score: float = 0.0
    threshold: float = 0.0  # the score a story needs to be joined
    shared: dict[str, list[str]] = Field(default_factory=dict)
    conflicts: dict[str, list[str]] = Field(default_factory=dict)


class EnrichedArticle(Article):
    """An article with its topics and its story."""

    topics: list[str] = Field(default_factory=list)
    topic_matches: list[TopicMatch] = Field(default_factory=list)
    story_id: str
    story_is_new: bool = False
    near_duplicate_of: str | None = None
    story_evidence: StoryEvidence | None = None


class Story(Record):
    """A group of articles reporting one event."""

    id: str
    headline: str
    headline_article: str
    article_ids: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    first_seen: datetime
    last_seen: datetime
    near_copies: dict[str, str] = Field(default_factory=dict)  # article id -> original id
    merged_from: list[str] = Field(default_factory=list)

    _utc = field_validator("first_seen", "last_seen")(_as_utc)

    @property
    def article_count(self) -> int:
        return len(self.article_ids)


AlertMode = Literal["new", "update", "digest"]
AlertKind = Literal["new", "update", "digest"]
_DURATION = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(value: object) -> object:
    """``90``, ``"90s"``, ``"30m"``, ``"1h"``, ``"2d"`` -> seconds."""
    if isinstance(value, str) and value[-1:] in _DURATION and value[:-1].strip():
        try:
            return float(value[:-1]) * _DURATION[value[-1]]
        except ValueError:
            pass
    return value


class AlertRule(Record):
    """A named query; fires once per story that matches it.

    Conditions (all optional): ``topics`` (the article or its story has at least one),
    ``min_sources`` (distinct outlets in the story), ``languages`` (the article's).
    Modes: ``new`` fires once per story; ``update`` also fires again whenever the story
    has grown by ``grow_by`` sources since the last alert, at most once per ``throttle``
    seconds; ``digest`` lists the matching stories in one message per ``digest_every``
    (``hourly``, or ``daily`` at ``digest_at`` UTC). Webhook channels are signed with the
    secret in the environment variable ``secret_env`` (or ``secrets[channel spec]``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    query: str = Field(min_length=1)
    description: str | None = None
    channels: list[str] = Field(default_factory=lambda: ["console"])
    mode: AlertMode = "new"
    min_sources: int = Field(default=1, ge=1)
    topics: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    grow_by: int = Field(default=2, ge=1, description="update mode: new sources to fire again")
    throttle: float = Field(default=3600.0, ge=0, description="update mode: seconds between")
    digest_every: Literal["hourly", "daily"] = "daily"
    digest_at: str = Field(default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    secret_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    secrets: dict[str, str] = Field(default_factory=dict)  # channel spec -> env variable

    _throttle = field_validator("throttle", mode="before")(_seconds)

    @field_validator("languages", "topics")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [v.strip().lower() for v in value if v.strip()]


DeliveryState = Literal["pending", "delivered", "failed"]


class DigestItem(Record):
    """One story listed in a digest alert."""

    story_id: str
    article_id: str
    headline: str
    sources: int = 1


class AlertEvent(Record):
    """One alert: rule × story × event (``new``, ``update`` at N sources, ``digest`` of a
    period), keyed so that it is sent once per channel."""

    rule: str
    story_id: str
    article_id: str
    headline: str
    query: str
    fired: datetime = Field(default_factory=utcnow)
    channel: str = "console"
    state: DeliveryState = "pending"
    error: str | None = None
    kind: AlertKind = "new"
    sources: int | None = None  # distinct sources in the story when it fired
    url: str | None = None  # the article that made it fire
    stories: list[DigestItem] = Field(default_factory=list)  # digest: the stories listed
    attempts: int = 0

    _utc = field_validator("fired")(_as_utc)

    @property
    def key(self) -> str:
        return f"{self.rule}\x1f{self.story_id}"

    @property
    def event(self) -> str:
        """The event part of the (rule, story, event) key: ``new``, ``update:N``, ``digest``."""
        return f"update:{self.sources}" if self.kind == "update" else self.kind


class DeadLetter(Record):
    """Input that could not be processed, with the reason; never dropped silently.

    ``key`` names the letter (an article id, ``alert:rule:story:event:channel``; None: the
    store derives one from stage and payload), so a letter that fails again replaces itself;
    ``source`` says where the input came from for people: a feed URL, ``archive.jsonl:12``
    (None: ``origin()`` reads it from the payload)."""

    stage: str
    error: str
    payload: str
    at: datetime = Field(default_factory=utcnow)
    key: str | None = None
    source: str | None = None

    _utc = field_validator("at")(_as_utc)

    def origin(self) -> str | None:
        """``source``, else the feed and URL the payload names (a raw or cleaned article,
        an event carrying one; also from a payload cut short), else None."""
        if self.source:
            return self.source
        found = {name: re.search(rf'"{name}":\s*"((?:[^"\\]|\\.){{1,2000}})"', self.payload)
                 for name in ("feed_url", "url")}
        values = [m.group(1).replace("\\/", "/") for m in found.values() if m]
        return ", ".join(values) or None
