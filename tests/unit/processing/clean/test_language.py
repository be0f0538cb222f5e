"""Language ID from the unpacked, memory-mapped model: py3langid's answers, loaded cheaply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import py3langid
import pytest

from pipeline.processing.clean import language

SAMPLES = [
    "Police said two people were injured in a shooting on Main Street late Saturday.",
    "Die Polizei teilte mit, dass zwei Menschen am Samstagabend verletzt wurden.",
    "La police a indiqué que deux personnes ont été blessées samedi soir.",
    "La policía dijo que dos personas resultaron heridas el sábado por la noche.",
    "Полиция сообщила, что в субботу вечером пострадали два человека.",
    "警方表示，周六晚上有两人受伤。",
    "الشرطة قالت إن شخصين أصيبا مساء السبت",
    "OK", "12 34 56", "THE MAYOR SAID NO",
]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(language, "cache_root", lambda: tmp_path / "newswire")
    language._identifier.cache_clear()
    yield tmp_path
    language._identifier.cache_clear()


def test_unpacked_model_answers_like_py3langid(cache: Path) -> None:
    expected = [py3langid.classify(text)[0] for text in SAMPLES]
    assert [language.detect_language(text) for text in SAMPLES] == expected
    unpacked = list((cache / "newswire").glob("langid-*/nextmove.npy"))
    assert len(unpacked) == 1
    language._identifier.cache_clear()  # a later process maps the files already there
    assert [language.detect_language(text) for text in SAMPLES] == expected
    assert not list((cache / "newswire").glob(".unpacking-*"))  # no leftovers


def test_unwritable_cache_falls_back_to_the_packed_model(cache: Path) -> None:
    (cache / "newswire").write_text("a file where the cache directory would go")
    assert language.detect_language(SAMPLES[1]) == py3langid.classify(SAMPLES[1])[0] == "de"


def test_only_the_text_start_is_read() -> None:
    english = "The council approved the budget after a long debate on Tuesday night. " * 3
    assert language.detect_language(english + "Der Stadtrat hat den Haushalt gebilligt. " * 20) \
        == "en"
    assert language.detect_language("   \n ") is None
