"""The shipped topics (config/topics.yaml) tag what their names promise, and not the
look-alikes a first reader found: a national security council is not the UN's, a
candidate "if elected" is not an election."""

from __future__ import annotations

import pytest

from pipeline.config.settings import load_settings
from pipeline.models import Article
from pipeline.processing.tag import Tagger
from tests.conftest import REPO

TAGGER = Tagger(load_settings(REPO / "config", env={}, alerts=False).topics)


def topics(title: str, text: str) -> set[str]:
    article = Article(id="t", url="https://x.example/t", title=title, text=text, source="x")
    return {m.topic for m in TAGGER.tag(article)}


@pytest.mark.parametrize(("title", "text", "topic", "tagged"), [
    ("UN Security Council votes on Gaza resolution",
     "The UN Security Council adopted a resolution on aid.", "united-nations", True),
    ("White House briefing", "A National Security Council spokesman said the talks went "
     "well.", "united-nations", False),
    ("Presidential election: voters head to the polls",
     "Turnout was high as voters cast ballots in the presidential election.", "elections", True),
    ("Mayor sets out plans", "If elected, she would cut bus fares, the councillor said.",
     "elections", False),
])
def test_shipped_topic(title: str, text: str, topic: str, tagged: bool) -> None:
    assert (topic in topics(title, text)) is tagged
