"""Text normalisation: mojibake repair, Unicode NFC, whitespace, paragraphs as lines.

``normalize_text`` is the first step of the text pass. It is cheap for clean text:
``ftfy`` (milliseconds per article) only runs on the lines that show a mojibake
signature, so ASCII and well-formed text go through at a few microseconds.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy

# A UTF-8 lead byte decoded as Latin-1/cp1252 followed by a continuation byte decoded the
# same way ("â€™", "Ã©", "Â "), the replacement character, or HTML entities left in text.
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
    "|\ufffd|&(?:#\\d{2,5}|#x[0-9a-fA-F]{2,4}|[a-zA-Z]{2,8});"
)
# Invisible characters that only break words and n-grams.
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad]")


def repair(text: str) -> str:
    """Repair mojibake and entities where a signature shows; leave other text untouched."""
    if text.isascii() and "&" not in text:
        return text
    if not _MOJIBAKE.search(text):
        return text
    return ftfy.fix_text(text, normalization="NFC", uncurl_quotes=False)


def normalize_text(text: str) -> list[str]:
    """Return the non-empty lines of ``text``, repaired, NFC-normalised, whitespace-collapsed."""
    text = repair(text)
    if not text.isascii():
        if _INVISIBLE.search(text):
            text = _INVISIBLE.sub("", text)
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
    # str.splitlines/str.split know every Unicode line break and space (NBSP included).
    return [" ".join(words) for line in text.splitlines() if (words := line.split())]


_NON_WORD = re.compile(r"[\W_]+")


# ASCII letters and digits lower-cased, every other ASCII character a space: for ASCII text
# ``squash`` is its words after this table, joined by single spaces (twice as fast).
_ASCII_SQUASH = str.maketrans(
    {i: (chr(i).lower() if chr(i).isalnum() else " ") for i in range(128)}
)


def squash(text: str) -> str:
    """A comparison key: case-folded words only (for duplicates and title repeats)."""
    if text.isascii():
        return " ".join(text.translate(_ASCII_SQUASH).split())
    return _NON_WORD.sub(" ", text.casefold()).strip()
