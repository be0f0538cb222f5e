"""The Faust worker against the real broker and Elasticsearch, as `newswire worker` runs."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from pipeline.models import RawArticle
from tests.integration.conftest import StreamEnv
from tests.integration.corpus import articles
from tests.integration.test_elasticsearch_store import raw_articles

pytestmark = pytest.mark.integration


def alert_lines(env: StreamEnv) -> list[tuple[str, str, str]]:
    path = env.data_dir / "alerts.jsonl"
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [(r["rule"], r["story_id"], r["channel"]) for r in rows]


def test_seeds_end_to_end_searchable_one_story_one_alert(
        stream_env: StreamEnv, seeds: dict[str, str]) -> None:
    env = stream_env
    env.start_worker()
    raws = raw_articles(seeds)[:5]
    assert env.ingest(list(reversed(raws))) == 5
    store = env.store()
    env.wait_for("5 seed articles indexed", lambda: env.indexed(store) == 5)
    assert len({h.id for h in store.search("agreements", limit=50)}) == 5
    assert len(store.search('"frozen assets"', limit=50)) == 3
    stories = store.stories()
    assert len(stories) == 1, f"the seeds should make one story: {stories}"
    story = stories[0]
    assert len(set(story.sources)) == 5
    env.wait_for("the alert", lambda: len(store.alert_log()) == 2)
    env.ingest(raws)  # the same five again: nothing changes
    time.sleep(5)
    store.refresh()
    assert store.count("articles") == 5
    assert sorted(e.rule for e in store.alert_log()) == ["frozen-assets-moves",
                                                         "ukraine-security-pact"]
    channel = "jsonl:alerts.jsonl"
    assert Counter(alert_lines(env)) == {("ukraine-security-pact", story.id, channel): 1,
                                         ("frozen-assets-moves", story.id, channel): 1}
    assert all(e.state == "delivered" for e in store.alert_log())


def test_poison_goes_to_dead_letters_and_the_stream_goes_on(stream_env: StreamEnv) -> None:
    env = stream_env
    env.start_worker()
    good = articles(n_stories=1)[0]
    env.produce_raw_bytes([
        ("bad-json", b"{not json"),
        ("no-url", json.dumps({"title": "no url", "text": "some text"}).encode()),
        ("no-body", RawArticle(url="https://x.example/empty").model_dump_json().encode()),
        ("wall", RawArticle(url="https://x.example/wall", text="!!! ???").model_dump_json()
         .encode()),
        ("good", good.model_dump_json().encode()),
    ])
    letters = dict(env.dead_letters(at_least=4))
    assert set(letters) == {"bad-json", "no-url", "no-body", "wall"}
    assert letters["bad-json"].stage == "decode" and "json" in letters["bad-json"].error.lower()
    assert letters["no-url"].stage == "decode" and "url" in letters["no-url"].error
    assert letters["no-body"].stage == "clean" and "InvalidInput" in letters["no-body"].error
    assert letters["wall"].stage == "clean" and "NotAnArticle" in letters["wall"].error
    assert letters["bad-json"].payload == "{not json"
    store = env.store()
    env.wait_for("the good article after the poison", lambda: env.indexed(store) == 1)


@pytest.mark.parametrize("kill_after", [
    1,  # before the worker committed any offset: the faust drops ``offsets`` guards against
    150,
])
def test_sigkill_mid_stream_loses_nothing_and_duplicates_nothing(
        stream_env: StreamEnv, kill_after: int) -> None:
    env = stream_env
    raws = articles(n_stories=160)  # 800 articles
    first = env.start_worker()
    env.ingest(raws)
    store = env.store()
    deadline = time.monotonic() + 120
    while env.indexed(store) < kill_after and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    crashed_at = env.indexed(store)
    assert crashed_at < len(raws), "the worker finished before it could be killed"
    env.start_worker()
    env.wait_for("every article indexed after the restart",
                 lambda: env.indexed(store) == len(raws), timeout=240)

    def alerted() -> bool:  # every story with the watched topic has its alert
        frozen = {s.id for s in store.stories() if "frozen-assets" in s.topics}
        return frozen <= {story for rule, story, _ in alert_lines(env)
                          if rule == "frozen-assets-moves"}

    deadline = time.monotonic() + 60
    while not alerted() and time.monotonic() < deadline:
        time.sleep(1)
    time.sleep(2)  # nothing more should come: a second copy would show now
    exported = list(store.export())
    assert len(exported) == len(raws) == len({a.id for a in exported})
    assert {a.url for a in exported} == {str(r.url) for r in raws}
    stories = store.stories()
    in_stories = [a for s in stories for a in s.article_ids]
    assert Counter(in_stories) == Counter(a.id for a in exported)  # each in exactly one story
    by_story = {a.story_id for a in exported}
    assert by_story == {s.id for s in stories}
    lines = alert_lines(env)
    assert lines and max(Counter(lines).values()) == 1, "an alert was sent twice"
    frozen = {s.id for s in stories if "frozen-assets" in s.topics}
    assert {story for rule, story, _ in lines if rule == "frozen-assets-moves"} == frozen
    assert len(store.alert_log()) == len(lines)
    # and every offset read was committed: nothing held back, nothing to read again
    env.wait_for("every offset committed", lambda: not env.uncommitted(), timeout=30)
    print(f"crash after {crashed_at}/{len(raws)} indexed; {len(stories)} stories; "
          f"{len(lines)} alerts; at {datetime.now(UTC):%H:%M:%S}")
