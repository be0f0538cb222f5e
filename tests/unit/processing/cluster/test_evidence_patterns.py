"""The faster ways evidence.py finds its matches give exactly what the plain patterns give:
lower-cased twins, prefilters, split alternatives, boundaries checked behind a character."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest

from pipeline.processing.cluster import evidence as ev
from pipeline.processing.cluster.features import _NAME_RUN

# the age pattern as one (both alternatives), as it was before it was split in two
_AGE = re.compile(ev._AGE_START + "(?:" + ev._AGE_YEARS_OLD + "|" + ev._AGE_AFTER_NAME + ")",
                  re.IGNORECASE)
TEXTS = [
    "Gunman KILLS Three, wounding 2 in Harlow, Ky. on Sunday; 6.1-Magnitude quake, "
    "MAGNITUDE of 5.4 too. Smith, 33, and a Two-Year-Old; USD 160 million, $ 3.5bn.",
    "Police said 12 People were Injured and Dozens hurt, killing twenty in 2008 or 1999.",
    "xMonday _Tuesday 1Friday Sunday_ 21999 2049 1950a Saturday.",
    "Ex-mayor, 4, said Jane Doe, 71, of Ames, IA, was shot five times (aged 9-month-old).",
    "Mumbai, India — Tokyo, Jp. three men and four women died; the 3-year - old boy.",
    "",
]


@pytest.mark.parametrize("name", ["_COUNT_AFTER", "_COUNT_BEFORE", "_MAGNITUDE", "_AMOUNT",
                                  "_AGE_YEARS"])
def test_lowered_twins_find_the_same_spans(name: str) -> None:
    pattern, twin = getattr(ev, name), getattr(ev, name + "_LOW")
    for text in TEXTS:
        expected = [(m.span(), [g and g.lower() for g in m.groups()])
                    for m in pattern.finditer(text)]
        assert [(m.span(), list(m.groups())) for m in twin.finditer(text.lower())] == expected


def _ages_combined(text: str) -> Counter[str]:
    ages: Counter[str] = Counter()
    for m in _AGE.finditer(text):
        unit = "m" if (m.group(2) or "").lower() == "month" else ""
        ages["a:" + (m.group(3) or ev._number(m.group(1)) + unit)] += 1
    return ages


def test_ages_split_in_two_patterns_are_the_combined_ones() -> None:
    for text in TEXTS:
        assert ev._quantities(text)[2] == _ages_combined(text), text


def test_letters_that_fold_to_ascii_still_match_case_insensitively() -> None:
    # "İ" lower-cases to two characters: the prefilters must not decide on such text
    found = ev.extract_evidence("Gunman İNJURED three at a bar", "Police said.", None)
    assert found["count"] == ["k:3"]
    kelvin = ev.extract_evidence("A \u212aILLING three in a quake", "Magnitude 6.1.", None)
    assert kelvin["count"] == ["k:3"] and kelvin["measure"] == ["m:6.1"]


@pytest.mark.parametrize(("fast", "plain"), [
    (ev._YEAR, r"\b(19[5-9]\d|20[0-4]\d)\b"),
    (ev._WEEKDAY, r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"),
    (ev._TOWN_STATE, r"\b([A-Z][a-z]+(?:\s[A-Z][a-z]+)?),\s+(?:[A-Z][a-z]{1,4}\.|[A-Z]{2}\b)"),
])
def test_boundaries_checked_behind_find_what_word_boundaries_find(
    fast: re.Pattern[str], plain: str
) -> None:
    extra = ["Ames, IA", "éAmes, IA", "_Ames, IA", "2008", "é2008", "Monday", "éMonday",
             "Sunday1", "aMes Town, Ky."]
    for text in TEXTS + extra:
        assert [m.span() for m in fast.finditer(text)] == [
            m.span() for m in re.finditer(plain, text)], text


@pytest.mark.parametrize(("title", "lead"), [
    ("Police Say Officer Shot Man In Harlow", "John Smith was hurt. Ames Police said."),
    ("Mayor Greets Visitors From Old Town", "Jane Doe Smith of Harlow met Bob Ray."),
    ("Police Name The Crash Victim", "Ames Jones died. The Harlow County sheriff spoke."),
])
def test_people_of_a_title_case_headline_come_from_the_lead_alone(title: str,
                                                                  lead: str) -> None:
    found = ev.extract_evidence(title, lead, date(2024, 3, 4))
    places = ev._places(title + "\n" + lead, _NAME_RUN.findall(title + "\n" + lead))
    expected = ev._top(ev._people(_NAME_RUN.findall(lead), places))
    assert found.get("who", []) == expected


def test_patterns_read_by_findall_hold_the_groups_it_returns() -> None:
    # findall returns the whole match of a pattern with no group, else its one group
    assert _NAME_RUN.groups == 0
    assert ev._PREP_PLACE.groups == ev._TOWN_STATE.groups == ev._YEAR.groups == 1
    assert ev._WEEKDAY.groups == 1
