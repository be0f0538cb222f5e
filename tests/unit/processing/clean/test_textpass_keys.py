"""The text pass's faster keys and tests give what their plain definitions give."""

from __future__ import annotations

import pytest

from pipeline.processing.clean.normalize import _NON_WORD, squash
from pipeline.processing.clean.textpass import _SENTENCE_END, _ends_sentence, _is_listing

LINES = [
    "Share this: Facebook | Twitter_X | E-mail!!",
    "  Read MORE -- at 10:30 a.m.\t(EST)  ",
    "__init__ 3.5% off; C++ & Rust",
    "Über café: naïve “quotes” — Straße İstanbul",
    "",
    "...",
    "1 Green, 1 Red, 1 tsp. salt, 2 cups flour, 3 eggs, 4 apples, water.",
    "He said \"no.\")",
    "Ends with a mark…”",
    "No mark at the end",
    "Line with a newline.\n",
    "Two newlines.\n\n",
    "١ ٢ ٣ Arabic-Indic digits, ² superscript ³ cubed and 4 more 5",
]


@pytest.mark.parametrize("line", LINES)
def test_squash_of_ascii_is_the_plain_key(line: str) -> None:
    assert squash(line) == _NON_WORD.sub(" ", line.casefold()).strip()


@pytest.mark.parametrize("line", LINES)
def test_sentence_end_read_from_the_end_is_the_regex(line: str) -> None:
    assert _ends_sentence(line) == bool(_SENTENCE_END.search(line))


@pytest.mark.parametrize("line", LINES + ["12 34 56 78 90 1 2", "a  1 b", "1"])
def test_listing_count_is_the_word_count(line: str) -> None:
    words = line.split(" ")
    assert _is_listing(line) == (sum(1 for w in words if w[:1].isdigit()) * 5 >= len(words))
