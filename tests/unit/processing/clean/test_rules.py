"""The clean stage's rule switch, bylines, authors and embedded posts."""

from __future__ import annotations

import pytest

from pipeline.models import RawArticle
from pipeline.processing.clean import header, junk
from pipeline.processing.clean.authors import split_author
from pipeline.processing.clean.cleaner import Cleaner
from pipeline.processing.clean.extract import with_embedded_posts
from pipeline.processing.clean.metadata import parse
from pipeline.processing.clean.rules import DEFAULT_OFF, RULES, check_rules
from pipeline.processing.clean.textpass import text_pass

PROSE = ("The council voted on Tuesday to expand the harbour after a long debate about "
         "the cost of dredging and the jobs it would bring to the town.")


def _kept(body: str, **kwargs: object) -> list[str]:
    return [v.line for v in text_pass(body, **kwargs).verdicts if v.kept]  # type: ignore[arg-type]


def test_unknown_rule_names_are_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="no-such-rule.*known: favor-precision"):
        Cleaner(disabled=["no-such-rule"])
    assert check_rules(RULES) == frozenset(RULES)
    assert RULES.keys() >= DEFAULT_OFF
    assert Cleaner().disabled == DEFAULT_OFF
    assert Cleaner(disabled=()).disabled == frozenset()


@pytest.mark.parametrize(("line", "switch"), [
    ("ADVERTISEMENT", "ad-marker"),
    ("img", "image-placeholder"),
    ("Photo: Jane Doe/Reuters", "image-credit"),
    ("Related stories", "read-more"),
    ("WATCH: Harbour plan approved", "read-more-label"),
    ("Remind me next month", "plea-account"),
    ("Email Jane Doe at jdoe@example.com or follow her @janedoe.", "contact-line"),
    ("Copyright The Courier", "copyright"),
    ("The Courier, © 2024", "copyright-anywhere"),
])
def test_each_line_rule_can_be_switched_off_by_name(line: str, switch: str) -> None:
    body = f"{PROSE}\n{line}\n{PROSE[:-1]} again."
    assert line not in _kept(body)
    assert line in _kept(body, disabled=frozenset({switch}))


def test_head_and_repeat_rules_switch_off() -> None:
    body = f"date 2024-06-13\n{PROSE}\n{PROSE}"
    assert _kept(body) == [PROSE]
    assert _kept(body, disabled=frozenset({"duplicate"})) == [PROSE, PROSE]
    kept = _kept(body, disabled=frozenset({"dateline"}))
    assert kept[0] == "date 2024-06-13"


def test_contact_rule_keeps_reporting_that_names_an_address() -> None:
    line = "The ministry said complaints can be sent to help@gov.example, it said on Monday."
    assert junk.classify_line(line) is None
    tip = "Have a tip? Jo Bloggs may be reached at jo@x.example."
    assert junk.classify_line(tip) == "contact-line"
    assert junk.classify_line("Contact Jo Bloggs at jo@x.example or @jobloggs.") == "contact-line"
    # An appeal for information is reporting, whoever it says to contact.
    for appeal in ("Anyone with information should contact Detective Jo Bloggs at jo@x.example.",
                   "Contact Crime Stoppers at 555-0100 or tips@police.example.",
                   "The clinic said patients can email help@clinic.example for appointments."):
        assert junk.classify_line(appeal) is None, appeal


def test_repeated_rows_of_quantities_are_not_duplicates() -> None:
    row = "Containers: 1 Green, 1 Purple, 1 Red, 1 Yellow, 2 tsp. of oil, 1 cup of rice."
    body = f"{PROSE}\n{row}\nSecond plan.\n{row}"
    assert _kept(body).count(row) == 2


def test_a_capitalised_heading_is_not_a_byline() -> None:
    following = PROSE
    assert header.parse_byline("NISSAN SENTRA", following) is None
    assert header.parse_byline("Hannah Nightingale Washington DC", following) == \
        "Hannah Nightingale"
    # With an author known from metadata, a bare name must be that author.
    assert header.parse_byline("Nissan Sentra", following, "Tom Krisher") is None
    assert header.parse_byline("JANIE HAR", following, "Janie Har") == "JANIE HAR"
    byline = header.parse_byline("By Tom Krisher, AP Auto Writer", following, "Tom Krisher")
    assert split_author(byline) == ("Tom Krisher", "AP Auto Writer")


@pytest.mark.parametrize(("value", "expected"), [
    ("Tom Krisher; Ap Auto Writer", ("Tom Krisher", "Ap Auto Writer")),
    ("By Sandee LaMotte, CNN", ("Sandee LaMotte", "CNN")),
    ("Tom Gillespie News reporter @TomGillespie1", ("Tom Gillespie", "News reporter")),
    ("By Carrie Arnold November 15, 2019", ("Carrie Arnold", None)),
    ("Lisa Kaczke and Trevor J. Mitchell", ("Lisa Kaczke; Trevor J. Mitchell", None)),
    ("Troy Smith; Troy L Smith; Cleveland com", ("Troy Smith", "Cleveland com")),
    ("JANIE HAR", ("Janie Har", None)),
    ("HNN Staff", ("HNN Staff", None)),
    ("Associated Press", ("Associated Press", None)),
    (None, (None, None)),
])
def test_authors_are_names_with_the_role_apart(value: str | None,
                                               expected: tuple[str | None, str | None]) -> None:
    assert split_author(value) == expected


def _page(body: str, meta_author: str | None = None) -> str:
    meta = f'<meta name="author" content="{meta_author}">' if meta_author else ""
    return (f"<html><head><title>Harbour plan</title>{meta}</head><body><article>"
            f"<h1>Harbour plan</h1>{body}</article></body></html>")


def test_the_page_author_is_split_into_name_and_role() -> None:
    html = _page(f"<p>NISSAN SENTRA</p><p>{PROSE}</p><p>{PROSE[:-1]} twice.</p>",
                 "Tom Krisher, AP Auto Writer")
    result = Cleaner().explain(RawArticle(url="https://courier.example/a", html=html))
    assert result.article is not None
    assert result.article.author == "Tom Krisher"
    assert result.article.author_role == "AP Auto Writer"
    assert "NISSAN SENTRA" in result.kept


TWEET = ('<blockquote class="twitter-tweet"><p lang="en">Club statement on the manager</p>'
         '&#8212; The Club (@club) <a href="https://twitter.com/x">November 20, 2019</a>'
         '</blockquote>')


def test_embedded_posts_are_put_back_after_their_paragraph() -> None:
    first, second = PROSE, PROSE.replace("council", "mayor")
    tree = parse(_page(f"<p>{first}</p><div>{TWEET}</div><p>{second}</p>"))
    assert tree is not None
    text = with_embedded_posts(tree, f"{first}\n{second}")
    assert text.split("\n") == [first, "Club statement on the manager",
                                "— The Club (@club) November 20, 2019", second]
    # Already extracted: not repeated.
    assert with_embedded_posts(tree, text) == text


def test_a_post_the_extractor_kept_is_not_repeated() -> None:
    html = _page(f"<p>{PROSE}</p>{TWEET}<p>{PROSE.replace('council', 'mayor')}</p>")
    raw = RawArticle(url="https://courier.example/b", html=html)
    assert Cleaner().clean(raw).text.count("Club statement") == 1
