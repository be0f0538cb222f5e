"""Records and Kafka's size limit (issue #16 item 1): what fits compressed is sent, what
does not is dead-lettered by the clean agent with its size and source, and the stream goes
on; dead letters never carry a body big enough to be refused themselves."""

from __future__ import annotations

import random
import string
from typing import Any
from unittest.mock import patch

from pipeline.models import RawArticle
from pipeline.runtime.kafka.limits import MAX_RECORD_BYTES, clip, oversize, source_of
from pipeline.runtime.kafka.topics import AnalysedEvent
from tests.unit.runtime.kafka.test_agents import pipeline, recorder

__all__ = ["pipeline"]  # the fixture


def noise(chars: int) -> str:
    rng = random.Random(1)
    return " ".join("".join(rng.choices(string.ascii_letters, k=8)) for _ in range(chars // 9))


def test_oversize_measures_the_compressed_record() -> None:
    assert oversize(b"x" * 1000) is None
    assert oversize(b"pier " * 400_000) is None  # 2 MB that compression makes small
    compressed = oversize(noise(2_000_000).encode())
    assert compressed is not None and compressed > MAX_RECORD_BYTES
    assert len(clip("y" * 100_000, 1000)) < 1100
    raw = RawArticle(url="https://a.example/1", feed_url="https://a.example/feed", text="t")
    assert source_of(raw) == "feed https://a.example/feed, https://a.example/1"


async def test_clean_agent_dead_letters_a_cleaned_article_too_large(pipeline: Any) -> None:
    huge = RawArticle(url="https://a.example/huge", title="Noise", text=noise(2_400_000))
    small = RawArticle(url="https://a.example/small", title="Pact signed",
                       text="The two countries signed a security pact on Thursday. " * 5)
    sent: list[tuple[str, Any, Any]] = []
    with patch.object(pipeline["clean"], "send", recorder(sent, "clean")), \
            patch.object(pipeline["dead"], "send", recorder(sent, "dead")):
        async with pipeline.app.agents["unit.clean"].test_context() as test:
            await test.put(key="huge", value=huge)
            await test.put(key="small", value=small)
    assert [name for name, _, _ in sent] == ["dead", "clean"]
    letter = sent[0][2]
    assert letter.stage == "clean" and "record too large" in letter.error
    assert "https://a.example/huge" in letter.error and len(letter.payload) < 5000
    assert isinstance(sent[1][2], AnalysedEvent)
