"""Event evidence (who / where / when / how many) and how it decides: agreement joins, a
conflict on town, day or magnitude separates two events told in the same words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pipeline.models import Article, StoryEvidence
from pipeline.processing.cluster.clusterer import ClusterSettings, StoryClusterer
from pipeline.processing.cluster.decision import compare
from pipeline.processing.cluster.evidence import extract_evidence

T0 = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)  # a Monday


def quake(aid: str, town: str, magnitude: str, day: str, at: datetime = T0) -> Article:
    return Article(
        id=aid,
        url=f"https://{aid}.example/{aid}",
        title=f"Magnitude {magnitude} earthquake shakes {town}",
        text=(
            f"A magnitude {magnitude} earthquake struck near {town} on {day}, damaging "
            f"homes and injuring 12 people, officials said. Residents of {town} spent the "
            "night outdoors as aftershocks rattled the region. Rescue teams searched "
            "collapsed buildings and the water supply was cut to several districts."
        ),
        source=f"{aid}.example",
        published=at,
        fetched=at,
    )


def evidence_of(article: Article) -> dict[str, list[str]]:
    day = article.published.date() if article.published else None
    return extract_evidence(article.title, article.text, day)


def test_who_where_when_how_many_are_found() -> None:
    found = extract_evidence(
        "Gunman kills 3 at Elm Street bar in Harlow, Ky.",
        "Police said Dana Whitfield, 41, opened fire at the Blue Anchor Tavern in Harlow on "
        "Sunday, killing three people. A 6-year-old boy was hurt. Damage reached $2 million.",
        date(2024, 3, 4),
    )
    assert {"e:harlow", "e:anchor"} <= set(found["where"])
    assert {"e:dana", "e:whitfield"} <= set(found["who"])
    assert "d:3-3" in found["when"] and "w:sunday" in found["when"]  # Sunday before Monday
    assert "k:3" in found["count"]
    assert {"a:41", "a:6"} <= set(found["age"])
    assert "$:2m" in found["measure"]


def test_tokenised_text_is_read_too() -> None:
    found = extract_evidence("Quake hits island", "A 5.6 - magnitude quake and a 36 - year - "
                             "old man ; $ 160 million in damage", None)
    assert {"m:5.6", "$:160m"} <= set(found["measure"]) and "a:36" in found["age"]


def test_conflicts_on_town_day_and_magnitude() -> None:
    base = evidence_of(quake("a", "Valdora", "5.1", "Sunday"))
    for other, kind in (
        (quake("b", "Marenza", "5.1", "Sunday"), "where"),
        (quake("c", "Valdora", "6.3", "Sunday"), "measure"),
        (quake("d", "Valdora", "5.1", "Thursday"), "when"),
    ):
        x, shared, conflicts = compare(evidence_of(other), {}, base, {})
        assert kind in conflicts, (other.id, conflicts)
    again = evidence_of(quake("e", "Valdora", "5.1", "Sunday"))
    x, shared, conflicts = compare(base, {}, again, {})
    assert not conflicts and {"where", "when", "measure", "count"} <= shared.keys()
    assert x["where_shared"] > 0 and x["day_agree"] == 1.0 and x["magnitude_agree"] == 1.0


def test_magnitudes_and_amounts_are_compared_apart() -> None:
    quake_side = {"measure": ["m:5.1"]}
    money_side = {"measure": ["$:160m"]}
    x, shared, conflicts = compare(quake_side, {}, money_side, {})
    assert not conflicts and not x  # a magnitude says nothing about an amount
    mine, theirs = {"measure": ["m:6.3", "$:2m"]}, {"measure": ["m:5.1", "$:2m"]}
    x, _, conflicts = compare(mine, {}, theirs, {})
    assert x["magnitude_conflict"] == 1.0 and x["measure_agree"] == 1.0
    assert conflicts["measure"] == ["m:6.3"]


def test_names_one_side_never_mentions_are_measured_even_when_some_are_shared() -> None:
    ship_a = {"who": ["e:indian", "e:navi", "e:mysor"]}
    ship_b = {"who": ["e:indian", "e:navi", "e:sukanya"]}
    x, shared, conflicts = compare(ship_a, {}, ship_b, {})
    assert shared["who"] == ["e:indian", "e:navi"] and "who" not in conflicts
    assert 0 < x["who_novel"] < 1  # one of three names on each side is the other's unknown
    x_same, _, _ = compare(ship_a, {}, ship_a, {})
    assert x_same["who_novel"] == 0.0


def test_conflicts_on_place_and_day_keep_equally_worded_reports_apart() -> None:
    settings = ClusterSettings()
    agree = {"body": 0.6, "title": 0.6, "where_shared": 1 / 3, "day_agree": 1.0}
    conflict = {"body": 0.6, "title": 0.6, "where_conflict": 1.0, "day_conflict": 1.0}
    assert settings.score(conflict) < settings.model.threshold <= settings.score(agree)
    one = {"body": 0.6, "title": 0.6, "count_conflict": 1.0}  # a revised casualty count
    assert settings.score(one) > settings.score({**one, "where_conflict": 1.0})


def test_a_similar_event_in_another_town_stays_apart() -> None:
    clusterer = StoryClusterer({})
    first = clusterer.assign(quake("q1", "Valdora", "5.1", "Monday"), [])
    same = clusterer.assign(quake("q2", "Valdora", "5.1", "Monday", T0 + timedelta(hours=2)), [])
    assert same.story.id == first.story.id and same.match is not None
    assert "where" in same.match.shared and not same.match.conflicts
    town = clusterer.assign(quake("q3", "Marenza", "5.1", "Monday", T0 + timedelta(hours=3)), [])
    assert town.is_new


def test_the_decision_is_shown_with_its_evidence() -> None:
    clusterer = StoryClusterer({})
    threshold = clusterer.settings.model.threshold
    first = clusterer.assign(quake("e1", "Valdora", "5.1", "Monday"), [])
    assert first.evidence(threshold) == StoryEvidence(joined=False, threshold=threshold)
    same = clusterer.assign(quake("e2", "Valdora", "5.1", "Monday", T0 + timedelta(hours=2)), [])
    shown = same.evidence(threshold)
    assert shown is not None and shown.joined and shown.story == first.story.id
    assert shown.score >= threshold and "where" in shown.shared and not shown.conflicts
    other = clusterer.assign(quake("e3", "Marenza", "6.3", "Friday", T0 + timedelta(hours=3)), [])
    apart = other.evidence(threshold)
    assert apart is not None and not apart.joined and apart.story == first.story.id
    assert apart.score < threshold and apart.conflicts  # the closest story, and why not
