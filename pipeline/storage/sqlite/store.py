"""The embedded store: state, full-text index, stories and alerts in one SQLite file.

One writer (the embedded runtime) commits each batch of articles atomically together
with its index entries, story updates, stage state and alert keys. The FTS5 index holds
pre-analysed terms (pipeline.query.analysis), so it stems exactly like the matcher; a
search narrows candidates with FTS5 and confirms each with the in-process matcher, so a
query finds here exactly what it would tag or alert on.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from pipeline import metrics
from pipeline.errors import ConfigError
from pipeline.models import AlertEvent, DeadLetter, EnrichedArticle, Story
from pipeline.query.analysis import analyzed_string
from pipeline.query.matcher import Document, matches
from pipeline.query.parser import MatchAll, Node, compile_query
from pipeline.storage.base import COUNT_CAP, IdKind, SearchHit
from pipeline.storage.dead import DeadRow, letter_key, preview, reason_class
from pipeline.storage.snippet import snippet
from pipeline.storage.sqlite.datadir import unusable
from pipeline.storage.sqlite.fts import fts_expression, meta_tokens
from pipeline.storage.sqlite.kv import SqliteMapping

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, url TEXT NOT NULL, title TEXT NOT NULL, source TEXT NOT NULL,
    published TEXT, story_id TEXT NOT NULL, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_story ON articles(story_id);
CREATE INDEX IF NOT EXISTS articles_published ON articles(published);
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
    title_terms, text_terms, meta, tokenize = "unicode61 tokenchars ':-_'"
);
CREATE TABLE IF NOT EXISTS stories (
    id TEXT PRIMARY KEY, last_seen TEXT NOT NULL, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS story_merges (old_id TEXT PRIMARY KEY, new_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (ns, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
    rule TEXT NOT NULL, story_id TEXT NOT NULL, channel TEXT NOT NULL, fired TEXT NOT NULL,
    state TEXT NOT NULL, data TEXT NOT NULL, event TEXT NOT NULL DEFAULT 'new',
    PRIMARY KEY (rule, story_id, event, channel)
);
CREATE TABLE IF NOT EXISTS dead (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT, stage TEXT NOT NULL, error TEXT NOT NULL,
    payload TEXT NOT NULL, at TEXT NOT NULL, source TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS dead_key ON dead(key) WHERE key IS NOT NULL;
CREATE INDEX IF NOT EXISTS dead_at ON dead(at);
CREATE TABLE IF NOT EXISTS feeds (url TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feed_keys (key TEXT PRIMARY KEY, article_id TEXT NOT NULL)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seen_in (article_id TEXT NOT NULL, feed_url TEXT NOT NULL,
    first_seen TEXT NOT NULL, PRIMARY KEY (article_id, feed_url)) WITHOUT ROWID;
"""
# keys kept packed, by namespace (kv.py): the clusterer's document frequencies, feature
# postings and MinHash buckets (see cluster/state.py): ~70 small values changed per article,
# one row per batch instead of one each
PACKED = {"cluster": ("df:", "ix:", "b:")}


def _utc_iso(moment: datetime) -> str:
    """As ``at`` is stored: ISO 8601 in UTC with +00:00 (naive times taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _document(article: EnrichedArticle) -> Document:
    return Document.build(title=article.title, text=article.text, author=article.author,
                          source=article.source, lang=article.lang, topics=article.topics,
                          story=article.story_id, published=article.published)


def _analysed(article: EnrichedArticle, doc: Document | None) -> tuple[str, str]:
    if doc is None:
        return analyzed_string(article.title), analyzed_string(article.text)
    return doc.fields["title"].analysed(), doc.fields["text"].analysed()


class SqliteStore:
    """State and search for the embedded runtime."""

    def __init__(self, path: Path | str) -> None:
        """Open (or create) the store; ConfigError naming the path and what to do when the
        data directory or the file cannot be used (pipeline/storage/sqlite/datadir.py)."""
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(str(self.path), isolation_level=None,
                                        check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self._migrate_alerts()
            self._migrate_dead()
            self.conn.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(unusable(self.path, exc)) from exc
        self._mappings: list[SqliteMapping] = []
        # dead letters being replayed: has_article lets them through, put_article forgets them
        self.replaying: set[str] = set()

    def close(self) -> None:
        self.conn.close()

    def _migrate_alerts(self) -> None:
        """Files from before alert events (update, digest): key alerts by event too."""
        columns = [r[1] for r in self.conn.execute("PRAGMA table_info(alerts)")]
        if columns and "event" not in columns:
            self.conn.executescript(
                "ALTER TABLE alerts RENAME TO alerts_v1;" + SCHEMA +
                "INSERT INTO alerts (rule, story_id, channel, fired, state, data) "
                "SELECT rule, story_id, channel, fired, state, data FROM alerts_v1;"
                "DROP TABLE alerts_v1;")

    def _migrate_dead(self) -> None:
        """Files from before the dead-letter listing: a ``source`` column, and a key for
        every letter (derived from stage and payload; copies of one letter kept once)."""
        columns = [r[1] for r in self.conn.execute("PRAGMA table_info(dead)")]
        if not columns or "source" in columns:
            return
        self.conn.execute("ALTER TABLE dead ADD COLUMN source TEXT")
        rows = self.conn.execute(
            "SELECT seq, stage, error, payload FROM dead WHERE key IS NULL ORDER BY seq").fetchall()
        taken = {r[0] for r in self.conn.execute("SELECT key FROM dead WHERE key IS NOT NULL")}
        for seq, stage, error, payload in rows:
            key = letter_key(DeadLetter(stage=stage, error=error, payload=payload))
            if key in taken:
                self.conn.execute("DELETE FROM dead WHERE seq=?", (seq,))
            else:
                taken.add(key)
                self.conn.execute("UPDATE dead SET key=? WHERE seq=?", (key, seq))

    def mapping(self, ns: str) -> SqliteMapping:
        """Stage state whose changes commit with the articles (see kv.py)."""
        found = SqliteMapping(self.conn, ns, PACKED.get(ns, ()))
        self._mappings.append(found)
        return found

    # -- writing (inside a transaction the runtime opens) --------------------------------
    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        for mapping in self._mappings:
            mapping.flush()
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        for mapping in self._mappings:
            mapping.reload()

    def has_article(self, article_id: str) -> bool:
        """Indexed, or dead-lettered (and not being replayed)."""
        if article_id in self.replaying:
            return self.article(article_id) is not None
        row = self.conn.execute("SELECT 1 FROM articles WHERE id=? UNION ALL "
                                "SELECT 1 FROM dead WHERE key=? LIMIT 1",
                                (article_id, article_id)).fetchone()
        return row is not None

    def put_article(self, article: EnrichedArticle, doc: Document | None = None) -> None:
        published = article.published.isoformat() if article.published else None
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO articles (id, url, title, source, published, story_id, data)"
            " VALUES (?,?,?,?,?,?,?)",
            (article.id, article.link or "", article.title, article.source, published,
             article.story_id, article.model_dump_json()),
        )
        if article.id in self.replaying:  # a replayed dead letter went through
            self.conn.execute("DELETE FROM dead WHERE key=?", (article.id,))
        if cur.rowcount:
            self.conn.execute(
                "INSERT INTO articles_fts (rowid, title_terms, text_terms, meta) VALUES "
                "((SELECT rowid FROM articles WHERE id=?), ?, ?, ?)",
                (article.id, *_analysed(article, doc), meta_tokens(article)),
            )

    def put_story(self, story: Story) -> None:
        self.conn.execute(
            "INSERT INTO stories (id, last_seen, data) VALUES (?,?,?) ON CONFLICT(id) DO "
            "UPDATE SET last_seen=excluded.last_seen, data=excluded.data",
            (story.id, story.last_seen.isoformat(), story.model_dump_json()),
        )

    def merge_stories(self, old_ids: list[str], new_id: str) -> None:
        """Point every article of merged stories at the surviving story."""
        for old in old_ids:
            self.conn.execute("INSERT OR REPLACE INTO story_merges VALUES (?,?)", (old, new_id))
            self.conn.execute("DELETE FROM stories WHERE id=?", (old,))
            rows = self.conn.execute("SELECT rowid, data FROM articles WHERE story_id=?",
                                     (old,)).fetchall()
            for rowid, data in rows:
                article = EnrichedArticle.model_validate_json(data)
                article.story_id = new_id
                self.conn.execute("UPDATE articles SET story_id=?, data=? WHERE rowid=?",
                                  (new_id, article.model_dump_json(), rowid))
                self.conn.execute("UPDATE articles_fts SET meta=? WHERE rowid=?",
                                  (meta_tokens(article), rowid))

    def put_alert(self, event: AlertEvent) -> bool:
        """Record an alert once; False if (rule, story, event, channel) was already recorded
        (also under a story that has since merged into this one)."""
        merged = self.conn.execute(
            "SELECT 1 FROM alerts a JOIN story_merges m ON a.story_id = m.old_id WHERE "
            "m.new_id=? AND a.rule=? AND a.event=? AND a.channel=? LIMIT 1",
            (event.story_id, event.rule, event.event, event.channel)).fetchone()
        if merged:
            return False
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO alerts (rule, story_id, channel, fired, state, data, event) "
            "VALUES (?,?,?,?,?,?,?)",
            (event.rule, event.story_id, event.channel, event.fired.isoformat(), event.state,
             event.model_dump_json(), event.event),
        )
        return bool(cur.rowcount)

    def set_alert_state(self, event: AlertEvent) -> None:
        self.conn.execute(
            "UPDATE alerts SET state=?, data=? WHERE rule=? AND story_id=? AND event=? "
            "AND channel=?", (event.state, event.model_dump_json(), event.rule, event.story_id,
                              event.event, event.channel),
        )

    def alert_state(self, event: AlertEvent) -> str | None:
        """The recorded state of this (rule, story, event, channel) alert, if recorded."""
        row = self.conn.execute(
            "SELECT state FROM alerts WHERE rule=? AND story_id=? AND event=? AND channel=?",
            (event.rule, event.story_id, event.event, event.channel)).fetchone()
        return str(row[0]) if row else None

    def alert_events(self, rule: str, limit: int = 200) -> list[AlertEvent]:
        """A rule's alerts, newest first, one per (story, event) (for its Atom feed)."""
        rows = self.conn.execute(
            "SELECT data FROM alerts WHERE rule=? GROUP BY story_id, event "
            "ORDER BY fired DESC LIMIT ?", (rule, limit))
        return [AlertEvent.model_validate_json(r[0]) for r in rows]

    def pending_alerts(self) -> list[AlertEvent]:
        rows = self.conn.execute("SELECT data FROM alerts WHERE state='pending' ORDER BY fired")
        return [AlertEvent.model_validate_json(r[0]) for r in rows]

    # -- dead letters (pipeline.storage.dead; ``newswire dead-letters``) -----------------
    def put_dead(self, letter: DeadLetter, key: str | None = None) -> None:
        """Record a letter under ``key`` (else its own, else one derived from stage and
        payload); a letter already held under that key is replaced (a replay that failed
        again keeps its new reason)."""
        key = key or letter_key(letter)
        self.conn.execute(
            "INSERT INTO dead (key, stage, error, payload, at, source) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT(key) WHERE key IS NOT NULL DO UPDATE SET stage=excluded.stage, "
            "error=excluded.error, payload=excluded.payload, at=excluded.at, "
            "source=excluded.source",
            (key, letter.stage, letter.error, letter.payload, letter.at.isoformat(),
             letter.origin()),
        )
        metrics.dead_letter(letter.stage, reason_class(letter.error))

    def dead_letters(self) -> list[DeadLetter]:
        """Every letter, oldest first."""
        return list(self.dead_letters_by_key().values())

    def dead_letters_by_key(self, stage: str | None = None,
                            keys: list[str] | None = None) -> dict[str, DeadLetter]:
        sql, args = self._dead_where(stage, None, keys)
        rows = self.conn.execute(
            f"SELECT key, stage, error, payload, at, source FROM dead{sql} ORDER BY seq", args)
        return {k: DeadLetter(key=k, stage=s, error=e, payload=p, source=src,
                              at=datetime.fromisoformat(a))
                for k, s, e, p, a, src in rows}

    def dead_rows(self, stage: str | None = None, since: datetime | None = None,
                  limit: int = 1000) -> list[DeadRow]:
        sql, args = self._dead_where(stage, since, None)
        rows = self.conn.execute(
            f"SELECT key, stage, error, substr(payload, 1, 4000), at, source FROM dead{sql} "
            "ORDER BY at DESC, seq DESC LIMIT ?", [*args, limit])
        return [DeadRow(key=k, stage=s, reason=e, at=datetime.fromisoformat(a),
                        source=src or DeadLetter(stage=s, error=e, payload=p).origin(),
                        preview=preview(p))
                for k, s, e, p, a, src in rows]

    def forget_dead(self, keys: list[str]) -> int:
        removed = 0
        for key in keys:
            removed += self.conn.execute("DELETE FROM dead WHERE key=?", (key,)).rowcount
        return removed

    def purge_dead(self, before: datetime, stage: str | None = None) -> int:
        # ``at`` is ISO 8601 in UTC (+00:00) throughout, so text order is time order
        sql, args = self._dead_where(stage, None, None)
        cur = self.conn.execute(f"DELETE FROM dead{sql or ' WHERE 1'} AND at < ?",
                                [*args, _utc_iso(before)])
        return cur.rowcount

    def dead_counts(self) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        for stage, error in self.conn.execute("SELECT stage, error FROM dead"):
            label = (stage, reason_class(error))
            counts[label] = counts.get(label, 0) + 1
        return counts

    @staticmethod
    def _dead_where(stage: str | None, since: datetime | None,
                    keys: list[str] | None) -> tuple[str, list[object]]:
        clauses: list[str] = []
        args: list[object] = []
        if stage:
            clauses.append("stage=?")
            args.append(stage)
        if since is not None:
            clauses.append("at >= ?")
            args.append(_utc_iso(since))
        if keys is not None:
            clauses.append(f"key IN ({','.join('?' * len(keys))})" if keys else "0")
            args += keys
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args

    # -- reading -------------------------------------------------------------------------

    def article(self, article_id: str) -> EnrichedArticle | None:
        row = self.conn.execute("SELECT data FROM articles WHERE id=?", (article_id,)).fetchone()
        return EnrichedArticle.model_validate_json(row[0]) if row else None

    def export(self) -> Iterator[EnrichedArticle]:
        rows = self.conn.execute("SELECT data FROM articles ORDER BY published, id")
        for (data,) in rows:
            yield EnrichedArticle.model_validate_json(data)

    def stories(self) -> list[Story]:
        rows = self.conn.execute("SELECT data FROM stories ORDER BY last_seen DESC, id")
        return [Story.model_validate_json(r[0]) for r in rows]

    def story(self, story_id: str) -> Story | None:
        row = self.conn.execute("SELECT new_id FROM story_merges WHERE old_id=?",
                                (story_id,)).fetchone()
        sid = row[0] if row else story_id
        found = self.conn.execute("SELECT data FROM stories WHERE id=?", (sid,)).fetchone()
        return Story.model_validate_json(found[0]) if found else None

    def alert_log(self) -> list[AlertEvent]:
        rows = self.conn.execute("SELECT data FROM alerts ORDER BY fired, rule")
        return [AlertEvent.model_validate_json(r[0]) for r in rows]

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        node = compile_query(query)
        hits: list[SearchHit] = []
        for score, article in self._candidates(node):
            doc = Document.build(title=article.title, text=article.text, author=article.author,
                                 source=article.source, lang=article.lang,
                                 topics=article.topics, story=article.story_id,
                                 published=article.published)
            result = matches(node, doc)
            if not result.matched:
                continue
            hits.append(SearchHit(
                id=article.id, title=article.title, url=article.link, source=article.source,
                published=article.published, story_id=article.story_id, topics=article.topics,
                score=round(score, 4), snippet=snippet(article.text, result.evidence),
                evidence=SearchHit.evidence_of(article), story_evidence=article.story_evidence,
            ))
            if len(hits) >= limit:
                break
        return hits

    def count_matches(self, query: str, cap: int = COUNT_CAP) -> tuple[int, bool]:
        """Matches of ``query``, each confirmed by the matcher (as ``search`` does), counted
        up to ``cap``; (count, exact). ``*`` alone is a plain row count."""
        node = compile_query(query)
        if node == MatchAll():
            (total,) = self.conn.execute("SELECT count(*) FROM articles").fetchone()
            return int(total), True
        total = 0
        for _score, article in self._candidates(node):
            if matches(node, _document(article)).matched:
                total += 1
                if total >= cap:
                    return total, False
        return total, True

    def ids_with_prefix(self, kind: IdKind, prefix: str, limit: int = 10) -> list[str]:
        """Ids starting with ``prefix`` (a range scan of the primary key); for stories, also
        the ids of stories merged into another when no live story has the prefix."""
        tables = ["articles"] if kind == "articles" else ["stories", "story_merges"]
        for table in tables:
            column = "old_id" if table == "story_merges" else "id"
            rows = self.conn.execute(
                f"SELECT {column} FROM {table} WHERE {column} >= ? AND {column} < ? "
                f"ORDER BY {column} LIMIT ?", (prefix, prefix + "\U0010ffff", limit)).fetchall()
            if rows:
                return [str(r[0]) for r in rows]
        return []

    def _candidates(self, node: Node) -> Iterator[tuple[float, EnrichedArticle]]:
        expression = fts_expression(node)
        if expression is None:
            rows = self.conn.execute(
                "SELECT 0.0, data FROM articles ORDER BY published DESC, id")
        else:
            rows = self.conn.execute(
                "SELECT -bm25(articles_fts, 2.0, 1.0, 0.5), a.data FROM articles_fts "
                "JOIN articles a ON a.rowid = articles_fts.rowid WHERE articles_fts MATCH ? "
                "ORDER BY bm25(articles_fts, 2.0, 1.0, 0.5)", (expression,))
        for score, data in rows:
            yield float(score), EnrichedArticle.model_validate_json(data)

    # -- feed state ----------------------------------------------------------------------
    def feed_state(self, url: str) -> dict[str, object]:
        row = self.conn.execute("SELECT data FROM feeds WHERE url=?", (url,)).fetchone()
        return json.loads(row[0]) if row else {}

    def put_feed_state(self, url: str, state: dict[str, object]) -> None:
        self.conn.execute("INSERT OR REPLACE INTO feeds (url, data) VALUES (?,?)",
                          (url, json.dumps(state, default=str)))

    def feed_states(self) -> dict[str, dict[str, object]]:
        return {u: json.loads(d) for u, d in self.conn.execute("SELECT url, data FROM feeds")}

    # -- article identity across feeds (pipeline.sources.seen) ------------------------------
    def article_for_keys(self, keys: list[str]) -> str | None:
        """The article id already known under any of ``keys`` (canonical URL, GUID, fingerprint)."""
        for key in keys:
            row = self.conn.execute("SELECT article_id FROM feed_keys WHERE key=?",
                                    (key,)).fetchone()
            if row:
                return str(row[0])
        return None

    def remember_keys(self, article_id: str, keys: list[str]) -> None:
        self.conn.executemany("INSERT OR IGNORE INTO feed_keys (key, article_id) VALUES (?,?)",
                              [(k, article_id) for k in keys])

    def add_seen_in(self, article_id: str, feed_url: str, at: str) -> bool:
        """Remember that the article appeared in this feed; False if already remembered."""
        cur = self.conn.execute("INSERT OR IGNORE INTO seen_in VALUES (?,?,?)",
                                (article_id, feed_url, at))
        return bool(cur.rowcount)

    def seen_in(self, article_id: str) -> list[str]:
        """The feeds an article appeared in, first first."""
        rows = self.conn.execute("SELECT feed_url FROM seen_in WHERE article_id=? "
                                 "ORDER BY first_seen, feed_url", (article_id,))
        return [r[0] for r in rows]

    # -- facets (the web page and `newswire search`) ---------------------------------------
    def facets(self, query: str, size: int = 10, scan: int = 2000) -> dict[str, object]:
        """Counts over the best ``scan`` hits of ``query`` (each is confirmed by the
        matcher, so more would be slow): total, topics, sources, langs (most frequent
        ``size`` each), dates (per day, oldest first); ``capped`` when hits were left."""
        node = compile_query(query)
        counters: dict[str, dict[str, int]] = {k: {} for k in ("topics", "sources", "langs",
                                                                "dates")}
        total = 0
        for _score, article in self._candidates(node):
            doc = Document.build(title=article.title, text=article.text, author=article.author,
                                 source=article.source, lang=article.lang,
                                 topics=article.topics, story=article.story_id,
                                 published=article.published)
            if not matches(node, doc).matched:
                continue
            total += 1
            values = {"topics": article.topics, "sources": [article.source],
                      "langs": [article.lang] if article.lang else [],
                      "dates": [article.published.date().isoformat()]
                      if article.published else []}
            for kind, found in values.items():
                for value in found:
                    counters[kind][value] = counters[kind].get(value, 0) + 1
            if total >= scan:
                break
        out: dict[str, object] = {"total": total, "capped": total >= scan}
        for kind, counts in counters.items():
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            out[kind] = sorted(counts.items()) if kind == "dates" else ranked[:size]
        return out
