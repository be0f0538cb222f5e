"""The analysis chain's shortcuts give exactly what the full token stream gives."""

from __future__ import annotations

import json

import pytest

from evaluation.paths import eval_dir
from pipeline.query.analysis import analyzed_string, fold, terms, tokens, words_string
from tests.conftest import require_path

TEXTS = [
    "",
    "The Mayor's office said it's over: 3 people were hurt in Zürich, Ærø and São Paulo.",
    "CAFÉ crème — naïve façade’s coöperation; ﬁnancial ｆｕｌｌｗｉｄｔｈ Ⅻ déjà-vu",
    "a an the of and or but",  # stop words only
    "Ünïcödé\tand\nnew lines, O’Brien’s and l'Aquila's",
]


def _reference(text: str) -> str:
    return " ".join(fold(text[t.start:t.end]) for t in tokens(text))


@pytest.mark.parametrize("text", TEXTS)
def test_words_string_is_the_folded_words_of_the_tokens(text: str) -> None:
    assert words_string(text) == _reference(text)
    assert analyzed_string(text) == " ".join(t.term for t in tokens(text)) == " ".join(
        terms(text))


def test_words_string_on_real_news_texts() -> None:
    path = require_path(eval_dir() / "clustering" / "gva_incidents.jsonl", "the eval stories")
    texts = [json.loads(line)["text"] for line in path.read_text().splitlines()[:300]]
    assert any(not t.isascii() for t in texts)  # both paths taken
    assert [words_string(t) for t in texts] == [_reference(t) for t in texts]
