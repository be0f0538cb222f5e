"""The Faust agents with no broker (faust's ``agent.test_context()``): the wiring around
the pure stages, poison to the dead-letter topic, the stream going on after it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, patch

import pytest

from pipeline.models import Article, DeadLetter, RawArticle
from pipeline.processing.stages import Stages
from pipeline.stream.agents import register_agents
from pipeline.stream.codec import Undecodable
from pipeline.stream.topics import StreamConfig, create_app


@pytest.fixture
def pipeline(tmp_path: Path) -> Any:
    p = create_app(StreamConfig(prefix="unit", datadir=tmp_path / "faust"))
    register_agents(p, lambda cluster, alerts: Stages([], [], cluster, alerts),
                    sink=AsyncMock(), notifier=AsyncMock())
    p.app.finalize()
    p.app.conf.store = "memory://"
    p.app.flow_control.resume()
    return p


async def test_clean_agent_sends_articles_on_and_poison_to_dead(pipeline: Any) -> None:
    good = RawArticle(url="https://a.example/1", title="Pact signed",
                      text="The two countries signed a security pact on Thursday. " * 5)
    sent: list[tuple[str, Any, Any]] = []

    def recorder(name: str) -> Any:
        async def send(key: Any = None, value: Any = None, **kw: Any) -> Any:
            sent.append((name, key, value))
            done = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        return send

    with patch.object(pipeline["clean"], "send", recorder("clean")), \
            patch.object(pipeline["dead"], "send", recorder("dead")):
        agent = pipeline.app.agents["unit.clean"]
        async with agent.test_context() as test:
            await test.put(key="bad", value=Undecodable(b"{x", "invalid json"))
            await test.put(key="empty", value=RawArticle(url="https://a.example/2",
                                                         text="!!! ???"))
            await test.put(key="good", value=good)
    assert [(name, key) for name, key, _ in sent] == [
        ("dead", "bad"), ("dead", "empty"), ("clean", sent[2][1])]
    assert isinstance(sent[0][2], DeadLetter) and sent[0][2].stage == "decode"
    assert sent[1][2].stage == "clean" and "NotAnArticle" in sent[1][2].error
    assert isinstance(sent[2][2], Article) and sent[2][2].title == "Pact signed"
