"""Wall verdicts need strong evidence: a short teaser beside a wall's own lines, never one
phrase in prose; a true paywall teaser is still refused with a reason naming the wall."""

from __future__ import annotations

import pytest

from pipeline.errors import NotAnArticle
from pipeline.models import RawArticle
from pipeline.processing.clean.cleaner import Cleaner
from pipeline.processing.clean.walls import TEASER_CHARS, wall_reason

TEASER = ("The council approved the new harbour budget on Tuesday after a four-hour "
          "meeting, with two members voting against the plan to widen the quay.")


def test_paywall_teaser_page_is_refused_naming_the_wall() -> None:
    html = (f"<p>{TEASER}</p><div class='wall'><p>Subscribe to continue reading.</p>"
            f"<p>Already a subscriber? <a href='/login'>Log in</a></p></div>")  # a feed's
    with pytest.raises(NotAnArticle) as caught:
        Cleaner().clean(RawArticle(url="https://paper.example/harbour", title="Harbour budget",
                                   html=html))
    assert caught.value.reason == "paywall"
    assert wall_reason("Harbour budget", f"{TEASER}\nThis post is for paid subscribers") \
        == "paywall"


def test_newsletter_that_mentions_paid_subscribers_is_an_article() -> None:
    text = (f"{TEASER} The full minutes of the meeting are linked below. {TEASER}\n\n"
            "Paid subscribers get the subscriber-only Q&A on Thursday.")
    assert len(text) >= TEASER_CHARS
    article = Cleaner().clean(RawArticle(guid="tag:letter.example,2024:7", title="Weekly",
                                         html=f"<p>{text.replace(chr(10) * 2, '</p><p>')}"
                                              "</p>"))
    assert "quay" in article.text and article.url is None


@pytest.mark.parametrize("texts", [
    ("Thanks to every paid subscriber and the subscriber-only Q&A is on Thursday, after "
     "the harbour vote that the council held in the town hall with more than two hundred "
     "residents listening in, many of them fishermen worried about their moorings.",),
    ("Already a subscriber?", TEASER * 3),  # a weak phrase beside a long text
    ("Read our cookie policy", TEASER),  # a footer's wording only, no banner
    ("404", TEASER),
])
def test_one_phrase_is_not_a_wall(texts: tuple[str, ...]) -> None:
    assert wall_reason(*texts) is None


@pytest.mark.parametrize(("texts", "reason"), [
    (("Just a moment...", "Checking your browser before accessing the site."),
     "bot-challenge"),
    (("<div><h2>We value your privacy</h2><button>Reject all</button>"
      "<button>Accept all cookies</button></div>",), "consent"),
    (("Page not found", "The page you are looking for does not exist."), "error-page"),
    ((TEASER, "Subscribe to keep reading", "Already a paid subscriber? Sign in"), "paywall"),
])
def test_walls_with_strong_evidence(texts: tuple[str, ...], reason: str) -> None:
    assert wall_reason(*texts) == reason


def test_a_long_teaser_needs_two_wall_phrases() -> None:
    long_teaser = TEASER * 3  # past TEASER_CHARS, under the two-phrase limit
    assert wall_reason(long_teaser, "Subscribe to continue reading") is None
    assert wall_reason(long_teaser, "Subscribe to continue reading",
                       "Already a subscriber? Log in") == "paywall"
