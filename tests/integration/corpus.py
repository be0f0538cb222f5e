"""A few hundred made-up articles in stories of five (our own text, deterministic).

Every story names its own invented people and places, so stories do not blend; one story
in four mentions frozen assets (the ``frozen-assets-moves`` rule fires once for each).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from pipeline.models import RawArticle

SOURCES = ["alpha-news", "beta-times", "gamma-post", "delta-wire", "epsilon-daily"]
EVENTS = [
    ("signed a water-sharing treaty with", "The treaty covers river dams and irrigation."),
    ("opened a high-speed rail link to", "Trains will run every hour between the cities."),
    ("reported record harvests alongside", "Farmers praised the late spring rains."),
    ("hosted a chess championship with", "Grandmasters played twelve rounds over a week."),
]
FROZEN = ("Officials also discussed using frozen assets held abroad to pay for reconstruction, "
          "and several banks agreed to report the frozen assets they hold.")


def _name(rng: random.Random) -> str:
    syllables = ["ka", "lo", "mi", "ru", "ten", "vor", "zan", "quel", "dri", "pos", "nuk", "bel"]
    return "".join(rng.choice(syllables) for _ in range(3)).capitalize()


def articles(n_stories: int = 60, seed: int = 7) -> list[RawArticle]:
    rng = random.Random(seed)
    start = datetime(2024, 6, 1, tzinfo=UTC)
    out: list[RawArticle] = []
    for s in range(n_stories):
        town, other, leader, group = (_name(rng) for _ in range(4))
        verb, detail = EVENTS[s % len(EVENTS)]
        when = start + timedelta(hours=3 * s)
        facts = [f"{town} {verb} {other} on Monday, mayor {leader} said.",
                 detail, f"The {group} council will meet again next month in {town}.",
                 f"{leader} thanked residents of {other} and {town} for their patience."]
        if s % 4 == 0:
            facts.append(FROZEN)
        for i, source in enumerate(SOURCES):
            body = [facts[0], *rng.sample(facts[1:], len(facts) - 1)]
            out.append(RawArticle(
                url=f"https://{source}.example/{s}/{town.lower()}-{i}",
                title=f"{town} and {other}: {leader} announces news ({source})",
                text="\n\n".join(body), source=source,
                published=when + timedelta(minutes=7 * i)))
    return out
