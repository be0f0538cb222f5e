"""The embedded runtime (SQLite) through a SIGKILL mid-batch and a full disk: the real
``newswire ingest`` in a subprocess, its database checked with SQLite's own integrity check.

The disk is a real one that fills up: a small tmpfs mounted for the test (root only, as on
the CI machines; elsewhere the test skips, and fails under CI=true), so the error is the
real SQLITE_FULL of a write that did not fit.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.models import RawArticle
from pipeline.storage.sqlite.store import SqliteStore
from tests.conftest import IN_CI, REPO, stop_process
from tests.integration.conftest import RULES
from tests.integration.corpus import articles
from tests.integration.faults.conftest import Row, record, sqlite_integrity, wait_until

pytestmark = pytest.mark.integration


class Embedded:
    """One test's config (topics + the jsonl alert rules), data dir and archive."""

    def __init__(self, tmp: Path, data_dir: Path, alerts: Path) -> None:
        self.config = tmp / "config"
        self.config.mkdir()
        (self.config / "topics.yaml").write_text(
            (REPO / "config" / "topics.yaml").read_text(encoding="utf-8"), encoding="utf-8")
        (self.config / "alerts.yaml").write_text(
            RULES.replace("jsonl:alerts.jsonl", f"jsonl:{alerts}"), encoding="utf-8")
        self.data, self.alerts, self.tmp = data_dir, alerts, tmp
        self.db = data_dir / "newswire.db"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}

    def archive(self, raws: list[RawArticle], name: str) -> Path:
        path = self.tmp / name
        path.write_text("".join(r.model_dump_json(exclude_none=True) + "\n" for r in raws),
                        encoding="utf-8")
        return path

    def ingest(self, archive: Path, log: str) -> subprocess.Popen[bytes]:
        with (self.tmp / log).open("wb") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "pipeline", "--config", str(self.config), "--data-dir",
                 str(self.data), "ingest", str(archive)],
                cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def log(self, name: str) -> str:
        path = self.tmp / name
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def count(self) -> int:
        if not self.db.exists():
            return 0
        try:
            conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=1)
            try:
                return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
            finally:
                conn.close()
        except sqlite3.Error:  # not created yet
            return 0

    def check(self, raws: list[RawArticle]) -> tuple[int, int, int]:
        """Every article stored once and in one story, none dead-lettered, each alert
        sent once, the database intact; returns (indexed, dead, duplicates)."""
        assert sqlite_integrity(self.db) == "ok"
        store = SqliteStore(self.db)
        try:
            exported = list(store.export())
            ids = Counter(a.id for a in exported)
            assert {a.url for a in exported} == {str(r.url) for r in raws}, "an article was lost"
            stories = store.stories()
            assert Counter(a for s in stories for a in s.article_ids) == ids
            dead = store.dead_letters()
            assert not dead, [d.error for d in dead]
            lines = [line for line in self.alerts.read_text().splitlines() if line.strip()]
            assert lines and max(Counter(lines).values()) == 1, "an alert was sent twice"
            frozen = {s.id for s in stories if "frozen-assets" in s.topics}
            alerted = {e.story_id for e in store.alert_log() if e.rule == "frozen-assets-moves"
                       and e.state == "delivered"}
            assert alerted == frozen, "a story's alert was not sent"
            return len(exported), len(dead), sum(n - 1 for n in ids.values())
        finally:
            store.close()


def test_ingest_killed_mid_batch_and_rerun(tmp_path: Path) -> None:
    env = Embedded(tmp_path, tmp_path / "data", tmp_path / "alerts.jsonl")
    raws = articles(n_stories=120, seed=21)  # 600 articles: batches of 200
    archive = env.archive(raws, "archive.jsonl")
    first = env.ingest(archive, "ingest-0.log")
    try:
        wait_until("the first batch committed", lambda: env.count() >= 1, 120,
                   lambda: env.log("ingest-0.log"))
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        stop_process(first)
    at_kill = env.count()
    assert 0 < at_kill < len(raws), "the kill did not land mid-ingest"
    began = time.monotonic()
    second = env.ingest(archive, "ingest-1.log")
    assert second.wait(timeout=300) == 0, env.log("ingest-1.log")
    resume = time.monotonic() - began
    indexed, dead, dups = env.check(raws)
    record(Row("embedded ingest SIGKILL mid-batch, rerun", len(raws), indexed, dead, dups,
               resume, f"{at_kill} committed at the kill"))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 32 MB tmpfs: a disk that really fills up."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m,mode=0755", "tmpfs",
                           str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        message = f"cannot mount a small tmpfs for the disk-full test: {done.stderr.strip()}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_under_sqlite(tmp_path: Path, small_disk: Path) -> None:
    env = Embedded(tmp_path, small_disk / "data", tmp_path / "alerts.jsonl")
    raws = articles(n_stories=120, seed=22)
    first = env.ingest(env.archive(raws[:100], "first.jsonl"), "ingest-0.log")
    assert first.wait(timeout=120) == 0, env.log("ingest-0.log")
    # leave ~150 KB: the next batch's writes do not fit
    filler = small_disk / "filler"
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    with filler.open("wb") as out:
        out.write(b"\0" * max(0, free - 150_000))
    second = env.ingest(env.archive(raws, "all.jsonl"), "ingest-1.log")
    try:
        wait_until("the disk-full error", lambda: "disk full" in env.log("ingest-1.log"), 120,
                   lambda: env.log("ingest-1.log"))
        full_at = env.count()
        assert second.poll() is None, f"ingest gave up:\n{env.log('ingest-1.log')}"
        assert "Traceback" not in env.log("ingest-1.log")
        assert sqlite_integrity(env.db) == "ok"
        filler.unlink()  # space is back
        began = time.monotonic()
        assert second.wait(timeout=300) == 0, env.log("ingest-1.log")
        resume = time.monotonic() - began
    finally:
        stop_process(second)
    assert "SQLITE_FULL" in env.log("ingest-1.log")
    indexed, dead, dups = env.check(raws)
    record(Row("disk full under SQLite (tmpfs), space freed", len(raws), indexed, dead, dups,
               resume, f"{full_at} stored when the disk filled"))
