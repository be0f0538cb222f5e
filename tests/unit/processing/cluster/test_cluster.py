"""The online story clusterer: seeds, separation, near-copies, restarts, windows, merges,
events of one kind kept apart, bounded document frequencies."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from evaluation.paths import seeds_dir
from pipeline.models import Article
from pipeline.processing.cluster.clusterer import Assignment, ClusterSettings, StoryClusterer
from pipeline.processing.cluster.features import extract, headline
from pipeline.processing.cluster.similarity import IDF_RATIO_CAP, idf
from pipeline.processing.cluster.state import StateStore

SEEDS = seeds_dir()
T0 = datetime(2024, 6, 13, 9, 0, tzinfo=UTC)
ORDERS = [(0, 1, 2, 3, 4), (4, 3, 2, 1, 0), (2, 0, 4, 1, 3), (1, 3, 0, 4, 2), (3, 4, 1, 2, 0)]


class JsonMapping(MutableMapping[str, Any]):
    """A mapping that stores JSON text, like the SQLite mapping and Faust tables do."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.writes = 0

    def __getitem__(self, key: str) -> Any:
        return json.loads(self.data[key])

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = json.dumps(value)
        self.writes += 1

    def __delitem__(self, key: str) -> None:
        del self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def make(aid: str, title: str, text: str, source: str | None = None, at: datetime = T0) -> Article:
    return Article(
        id=aid,
        url=f"https://{source or aid}.example/{aid}",
        title=title,
        text=text,
        source=source or f"{aid}.example",
        published=at,
        fetched=at,
    )


def seed_articles() -> list[Article]:
    if not SEEDS.is_dir():
        message = f"seeds not found at {SEEDS} (expected beside the repository in ../shared)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    out = []
    for n, path in enumerate(sorted(SEEDS.glob("0*.txt"))):
        text = path.read_text(encoding="utf-8")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        title = next(line for line in lines if line not in {"img", "Image"})
        out.append(make(path.stem, title[:200], text, source=f"outlet{n}", at=T0))
    assert len(out) == 5
    return out


PLACES = ["Tulsa", "Dayton", "Fresno", "Akron", "Mobile", "Boise", "Macon", "Joliet", "Tacoma"]
NAMES = [
    "Jordan Ellery",
    "Maria Quintero",
    "Dale Whitcomb",
    "Anh Tran",
    "Rosa Delacroix",
    "Kevin Osei",
    "Priya Natarajan",
    "Tom Brakeman",
    "Lena Vogt",
]
WHAT = [
    "warehouse fire",
    "bridge collapse",
    "bank robbery",
    "water main break",
    "gas explosion",
    "school lockdown",
    "train derailment",
    "factory layoffs",
    "stadium vote",
]


def synthetic(count: int, seed: int = 7) -> list[Article]:
    """Made-up events, each reported a few times in different words over a few days."""
    rng = random.Random(seed)
    out: list[Article] = []
    for n in range(count):
        event = rng.randrange(count // 3 + 1)
        place, name, what = PLACES[event % 9], NAMES[event * 7 % 9], WHAT[event * 5 % 9]
        number = 3 + event % 17
        day = event // 4 + rng.random() * 2
        variant = rng.randrange(3)
        title = [
            f"{place} {what} leaves {number} hurt",
            f"{number} injured in {what} in {place}, {name} says",
            f"{name} on the {place} {what}",
        ][variant]
        text = (
            f"Officials in {place} said {number} people were hurt in the {what} on Tuesday. "
            f"{name}, who leads the {place} response office, said crews worked through the night. "
            + ["Residents were told to stay away. ", "Roads nearby were closed. ", ""][variant]
            + f"Event {event} code {event * 31 + 7} was logged at {place} county hall."
        )
        out.append(make(f"x{n}", title, text, f"site{n % 11}", T0 + timedelta(days=day)))
    out.sort(key=lambda a: a.timestamp)
    return out


def run(clusterer: StoryClusterer, articles: list[Article]) -> list[Assignment]:
    return [clusterer.assign(a, []) for a in articles]


@pytest.mark.parametrize("order", ORDERS)
def test_seeds_in_any_order_make_one_story_with_five_sources(order: tuple[int, ...]) -> None:
    seeds = seed_articles()
    results = run(StoryClusterer(JsonMapping()), [seeds[i] for i in order])
    assert [r.is_new for r in results] == [True, False, False, False, False]
    story = results[-1].story
    assert {r.story.id for r in results} == {story.id} and not any(r.merged for r in results)
    assert story.id == f"s-{seeds[order[0]].id}"
    assert sorted(story.sources) == [f"outlet{n}" for n in range(5)]
    assert sorted(story.article_ids) == sorted(a.id for a in seeds)
    assert story.headline in {a.title for a in seeds}


def test_undated_articles_join_a_dated_one_fetched_much_later() -> None:
    """Feed items without dates arrive "now"; one seed carries its 2024 dateline."""
    fetched = T0 + timedelta(days=800)
    seeds = [
        a.model_copy(update={"published": T0 if n == 4 else None, "fetched": fetched})
        for n, a in enumerate(seed_articles())
    ]
    for order in ORDERS:
        results = run(StoryClusterer({}), [seeds[i] for i in order])
        assert len({r.story.id for r in results}) == 1
        assert len(results[-1].story.sources) == 5


def test_unrelated_articles_make_separate_stories() -> None:
    seeds = seed_articles()
    other = make(
        "fire",
        "Warehouse fire in Dayton forces evacuation of 40 homes",
        "Firefighters in Dayton battled a blaze at a paper warehouse on Elm Street overnight. "
        "Forty homes were evacuated and two firefighters were treated for smoke inhalation.",
    )
    clusterer = StoryClusterer({})
    first = clusterer.assign(seeds[2], [])
    second = clusterer.assign(other, [])
    assert second.is_new and second.story.id != first.story.id
    assert clusterer.assign(seeds[1], []).story.id == first.story.id


def test_near_copy_is_detected_and_recorded() -> None:
    seeds = seed_articles()
    original = seeds[2]
    copy = make("copy", original.title, "Advertisement\n" + original.text + "\nShare", "mirror")
    clusterer = StoryClusterer({})
    clusterer.assign(original, [])
    result = clusterer.assign(copy, ["security-pacts"])
    assert result.near_duplicate_of == original.id and not result.is_new
    assert result.story.near_copies == {"copy": original.id}
    assert result.story.topics == ["security-pacts"]
    again = clusterer.assign(make("copy2", "x", copy.text, "mirror2"), [])
    assert again.near_duplicate_of == original.id  # points at the original, not the copy


def test_replay_changes_nothing() -> None:
    state = JsonMapping()
    clusterer = StoryClusterer(state)
    seeds = seed_articles()
    run(clusterer, seeds)
    before, writes = dict(state.data), state.writes
    again = run(clusterer, seeds)
    assert state.data == before and state.writes == writes
    assert {r.story.id for r in again} == {f"s-{seeds[0].id}"}


@pytest.mark.parametrize("cut", [1, 17, 40, 77])
def test_restart_over_the_same_state_continues_identically(cut: int) -> None:
    articles = synthetic(90)
    window = timedelta(days=2)
    whole = run(StoryClusterer(JsonMapping(), window=window, retention=window * 2), articles)
    state = JsonMapping()
    first = run(StoryClusterer(state, window=window, retention=window * 2), articles[:cut])
    rest = run(StoryClusterer(state, window=window, retention=window * 2), articles[cut:])
    assert [r.story.model_dump() for r in first + rest] == [r.story.model_dump() for r in whole]
    assert [(r.is_new, r.near_duplicate_of, r.merged) for r in first + rest] == [
        (r.is_new, r.near_duplicate_of, r.merged) for r in whole
    ]
    assert len({r.story.id for r in whole}) < len(articles) / 2  # rewrites do join up


def test_window_closes_stories_and_state_stays_bounded() -> None:
    seeds = seed_articles()
    state = JsonMapping()
    clusterer = StoryClusterer(state, window=timedelta(days=3), retention=timedelta(days=10))
    old = clusterer.assign(seeds[2], [])
    late = make("late", seeds[1].title, seeds[1].text, "outlet1", T0 + timedelta(days=5))
    assert clusterer.assign(make("x", "Council item", "Agenda item on paving.", "gazette",
                                 T0 + timedelta(days=4)), []).is_new
    assert state[f"v:{old.story.id}"]["closed"]  # closed: only its archive summary is left
    assert not [k for k in state if k.startswith(("ix:", "b:")) and old.story.id in state[k]]
    assert not any(k.startswith("b:") and seeds[2].id in state[k] for k in state)
    result = clusterer.assign(late, [])  # the same event, after the window: from the archive
    assert not result.is_new and result.story.id == old.story.id
    assert result.match is not None and result.match.features.get("archived") == 1.0
    filler = [
        make(
            f"f{d}",
            f"Council item {d}",
            f"Agenda item {d} on paving.",
            "gazette",
            T0 + timedelta(days=d),
        )
        for d in range(6, 40, 2)
    ]
    run(clusterer, filler)
    assert f"s:{old.story.id}" not in state and f"a:{seeds[2].id}" not in state  # purged
    open_stories = [k for k in state if k.startswith("v:")]
    assert len(open_stories) <= 3
    assert not [k for k in state if k.startswith("ax:") and old.story.id in state[k]]


FLOOD = (
    "Flooding on the Velmar River forced 300 families from Harlow overnight, and the Harlow "
    "mayor Ines Cabrera opened the school gym as a shelter. Water reached the Harlow bridge."
)
FLOOD_B = (
    "Some 300 Harlow families left their homes as the Velmar River flooded overnight; mayor Ines "
    "Cabrera opened the school gym for shelter, and the water rose to the Harlow bridge."
)
LANDSLIDE = (
    "Cargo trains between Pellton and Ostrava Junction stopped after a landslide buried the "
    "tracks near Kessick tunnel; engineer Walter Pym said repairs need 12 days."
)


def test_article_linking_two_unrelated_stories_does_not_chain_them() -> None:
    clusterer = StoryClusterer({})
    a = clusterer.assign(make("a", "Velmar River flood drives 300 Harlow families out", FLOOD), [])
    slide = make("b", "Landslide at Kessick tunnel halts Pellton trains", LANDSLIDE)
    b = clusterer.assign(slide, [])
    assert b.is_new and a.story.id != b.story.id
    both = make(
        "c",
        "Velmar River flood in Harlow and Kessick tunnel landslide halts Pellton trains",
        FLOOD + "\n" + LANDSLIDE,
        "wire",
    )
    result = clusterer.assign(both, [])
    assert not result.merged and result.story.id in {a.story.id, b.story.id}
    later = clusterer.assign(make("d", "x", LANDSLIDE + " Repairs began.", "rail"), [])
    assert later.story.id == b.story.id


def test_a_report_twelve_days_later_with_the_same_evidence_joins() -> None:
    """The same flood (river, town, mayor, 300 families) reported twelve days apart: the
    evidence agrees, so it joins, and its record says why."""
    clusterer = StoryClusterer({}, window=timedelta(days=14))
    title = "Velmar River flood drives 300 Harlow families out"
    a = clusterer.assign(make("a", title, FLOOD), [])
    late = T0 + timedelta(days=12)
    b = clusterer.assign(make("b", "Harlow families flee Velmar River flood", FLOOD_B, at=late), [])
    assert not b.is_new and b.story.id == a.story.id and b.match is not None
    assert "where" in b.match.shared and not b.match.conflicts


def quake(aid: str, place: str, mayor: str, magnitude: str, at: datetime) -> Article:
    return make(
        aid,
        f"Magnitude {magnitude} earthquake strikes {place}",
        f"A magnitude {magnitude} earthquake struck near {place} on Monday, officials said.\n\n"
        "The quake hit at a depth of 30 kilometres, according to the seismology office.\n\n"
        f"Mayor {mayor} urged residents to stay out of older buildings.\n\n"
        "Power was cut to homes and rescue teams searched damaged buildings.",
        source=f"{aid}.example",
        at=at,
    )


def test_same_kind_of_event_in_different_places_stays_apart() -> None:
    """Two earthquakes, same wording, different towns (even the same mayor's name): two
    stories; another report of the first one still joins it."""
    clusterer = StoryClusterer({})
    first = clusterer.assign(quake("q1", "Valdora", "Ilse Marrow", "5.1", T0), [])
    other = quake("q2", "Marenza", "Ilse Marrow", "6.2", T0 + timedelta(hours=9))
    second = clusterer.assign(other, [])
    assert second.is_new and second.story.id != first.story.id
    same = quake("q3", "Valdora", "Ilse Marrow", "5.1", T0 + timedelta(hours=10))
    again = clusterer.assign(same, [])
    assert again.story.id == first.story.id


def test_rare_document_frequencies_are_pruned() -> None:
    state: dict[str, Any] = {}
    store = StateStore(state)
    n = IDF_RATIO_CAP * 10
    store.count_document(["rare", "common"])
    for _ in range(30):
        store.count_document(["common"])
    assert store.prune_df(n) == 1  # "rare" (1 in n) saturates IDF anyway: its count goes
    assert "df:rare" not in state and state["df:common"] == 31
    assert idf(n, 0) == idf(n, 1) == idf(n, 5)  # saturated either way


def test_state_values_are_small_json() -> None:
    state = JsonMapping()
    run(StoryClusterer(state), seed_articles() + synthetic(30))
    assert all(len(v) < 20_000 for v in state.data.values())


MONDAY = datetime(2024, 6, 17, 9, 0, tzinfo=UTC)
TAVERN = (
    "A man was shot outside the Anchor Tavern on Mill Street in Harlow on Sunday night, police "
    "said.\n\nOfficers found the man, 34, on the sidewalk; he was taken to Harlow General "
    "Hospital.\n\nPolice have not named a suspect and asked witnesses to come forward."
)


def drive_by(aid: str, age: str, kid: str, at: datetime) -> Article:
    return make(
        aid,
        f"Detroit {kid}, {age}, shot in drive-by on east side",
        f"A {age}-year-old {kid} was shot in a drive-by on the east side of Detroit on Sunday "
        f"night, police said.\n\nThe {kid} was taken to a hospital in critical condition. "
        "Officers found shell casings near the house.\n\nPolice asked anyone with information "
        "to call Crime Stoppers.",
        at=at,
    )


def test_headline_drops_the_outlet_name_sites_append() -> None:
    def title(text: str, source: str) -> str:
        return headline(make("h", text, "Body.", source=source))

    suffix = " - KSLA News 12 Shreveport, Louisiana News Weather & Sports"
    assert title("Home shot multiple times" + suffix, "ksla.com") == "Home shot multiple times"
    assert title("Three dead, three injured :: WRAL.com", "wral.com") == "Three dead, three injured"
    kept = "Obama - the early years"  # a dash that names no outlet stays
    assert title(kept, "example.com") == kept


def test_ages_and_named_days_are_features() -> None:
    article = make(
        "f",
        "Girl, 7, grazed by bullet",
        "A 4-year-old boy and his sister were hurt on Sunday, police said on Dec. 11.",
        at=MONDAY,
    )
    features = extract(article)
    assert {"a:7", "a:4", "d:6-16", "d:12-11"} <= features.vector.keys()
    assert "a:7" in features.title_names and "a:4" not in features.title_names
    assert features.days == ["d:12-11", "d:6-16"]  # Sunday before Monday 17 June
    undated = extract(article.model_copy(update={"published": None}))
    assert undated.days == ["d:12-11"]  # "Sunday" of an unknown week names no day


def test_same_kind_of_event_to_people_of_other_ages_stays_apart() -> None:
    """Two drive-bys in one city the same night, told in the same words: the headlines' ages
    (a girl of 5, a boy of 2) keep them apart; another report about the girl joins hers."""
    clusterer = StoryClusterer({})
    girl = clusterer.assign(drive_by("g1", "5", "girl", MONDAY), [])
    boy = clusterer.assign(drive_by("b1", "2", "boy", MONDAY + timedelta(hours=3)), [])
    assert boy.is_new and boy.story.id != girl.story.id
    again = clusterer.assign(drive_by("g2", "5", "girl", MONDAY + timedelta(hours=6)), [])
    assert again.story.id == girl.story.id


def test_a_follow_up_naming_the_events_day_joins_and_another_day_does_not() -> None:
    """A charge four days after a shooting, about "Sunday's shooting": the shared day shows
    it is the same event; naming another day ("Thursday's shooting") it is not."""
    follow_up = make(
        "t2",
        "Man charged in Harlow shooting",
        "Harlow police on Friday charged a 41-year-old man with attempted murder in Sunday's "
        "shooting outside the Anchor Tavern. He is held at the county jail.",
        at=MONDAY + timedelta(days=4),
    )
    for days, joins in (("Sunday", True), ("Thursday", False)):
        clusterer = StoryClusterer({}, window=timedelta(days=7))
        shooting = make("t1", "Man shot outside Harlow tavern", TAVERN, at=MONDAY)
        first = clusterer.assign(shooting, [])
        text = follow_up.text.replace("Sunday", days)
        result = clusterer.assign(follow_up.model_copy(update={"text": text}), [])
        assert (result.story.id == first.story.id) is joins, days


def test_a_closed_story_stays_findable_for_a_year() -> None:
    """A sentencing months after a shooting is compared with its closed story while the
    story is in the archive (365 days), and no longer once the archive has dropped it; an
    undated report, which could be about anything since, only with stories active in the
    last 180 days."""
    sentencing = (
        "A Harlow man was sentenced on Tuesday for the shooting outside the Anchor Tavern on "
        "Mill Street in Harlow, which left a man, 34, in Harlow General Hospital."
    )
    for days, dated, found in ((300, True, True), (400, True, False), (150, False, True),
                               (300, False, False)):
        clusterer = StoryClusterer({}, window=timedelta(days=3))
        first = clusterer.assign(make("t1", "Man shot outside Harlow tavern", TAVERN,
                                      at=MONDAY), [])
        late = make("t2", "Harlow tavern shooter sentenced", sentencing,
                    at=MONDAY + timedelta(days=days))
        if not dated:
            late = late.model_copy(update={"published": None})
        result = clusterer.assign(late, [])
        compared = {m.story for m in result.candidates}
        assert (first.story.id in compared) is found, (days, dated)


def test_a_title_case_headline_names_only_what_the_body_names() -> None:
    """In "Berlin Teen Dies After Pellet Gun Shooting" every word is capitalised: only the
    words the body names too (Berlin) are the headline's names, so a follow-up in title
    case does not look like a report about other people."""
    body = "A teenager shot with a pellet gun in Berlin on Sunday has died, police said."
    title_case = extract(make("c1", "Berlin Teen Dies After Pellet Gun Shooting", body))
    assert [f for f in title_case.title_names if f.startswith("e:")] == ["e:berlin"]
    sentence_case = extract(make("c2", "Berlin teen dies after Mike Dunn shot him", body))
    assert {"e:berlin", "e:mike", "e:dunn"} <= set(sentence_case.title_names)


def test_an_archived_story_keeps_the_names_it_is_found_under() -> None:
    """A closed story is found under up to 24 names (headline names, who, where) and keeps
    8 values of each kind of evidence, as while it was open."""
    from pipeline.processing.cluster.stories import archive_names, archive_summary

    evidence = {"who": [f"e:p{i}" for i in range(8)], "where": [f"e:w{i}" for i in range(8)],
                "count": [f"k:{i}" for i in range(8)]}
    vector = {"c": {"shot": 1.0}, "h": {"shot": 1.0}, "tn": [f"e:t{i}" for i in range(10)],
              "ev": evidence, "f": None, "l": None, "fa": 0.0, "la": 0.0}
    summary = archive_summary(vector)
    assert summary["ev"] == evidence
    names = archive_names(summary)
    assert len(names) == 24 and {"e:p7", "e:w5"} <= set(names)


def test_an_archived_story_naming_another_day_needs_a_specific_in_common() -> None:
    """Against an archived story, another day named cuts the score unless the report
    restates a specific of the event (an age, a magnitude; not a count, "2" agrees by
    chance): a sentencing weeks later names the sentencing's day and the victim's age."""
    settings = ClusterSettings()
    x = {"body": 0.5, "title": 0.4, "where_shared": 0.67, "day_conflict": 1.0,
         "archived": 1.0, "gap": 3.0}
    cut = settings.day_penalty
    assert settings.score(x) == pytest.approx(settings.model.probability(x) * cut)
    for extra, factor in (({"age_agree": 1.0}, 1.0), ({"magnitude_agree": 1.0}, 1.0),
                          ({"count_agree": 1.0}, cut), ({"archived": 0.0}, 1.0)):
        y = {**x, **extra}
        assert settings.score(y) == pytest.approx(settings.model.probability(y) * factor), extra



def test_a_late_report_is_judged_as_if_its_story_were_still_open() -> None:
    """Partitions of a backfill reach the story agent out of order: a report of Monday that
    arrives after later news closed Monday's story is compared with it as an open story,
    not as an archived one."""
    clusterer = StoryClusterer({}, window=timedelta(days=3))
    first = clusterer.assign(make("t1", "Man shot outside Harlow tavern", TAVERN, at=MONDAY), [])
    clusterer.assign(make("o1", "Valdora council passes budget", "The Valdora council passed "
                          "its budget on Thursday after a long debate.",
                          at=MONDAY + timedelta(days=10)), [])
    late = make("t2", "Harlow tavern shooting: man, 34, in hospital",
                "A man, 34, was shot outside the Anchor Tavern on Mill Street in Harlow on "
                "Sunday night and taken to Harlow General Hospital, police said.",
                at=MONDAY + timedelta(hours=2))
    result = clusterer.assign(late, [])
    compared = {m.story: m for m in result.candidates}
    assert first.story.id in compared
    assert not compared[first.story.id].features.get("archived")
    assert result.story.id == first.story.id
