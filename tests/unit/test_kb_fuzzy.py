"""Short queries with a typo are corrected to words the articles contain."""

from __future__ import annotations

from knowledge_base import text as kbtext
from knowledge_base.fuzzy import Vocabulary

VOCAB = Vocabulary(
    [
        "Роуминг — нет связи за границей. Настройки APN для мобильного интернета.",
        "Roaming abroad: data roaming settings. SIM card replacement.",
    ]
)


def test_russian_and_english_words_are_stemmed_by_their_own_language() -> None:
    assert kbtext.stem("интернета") == kbtext.stem("интернет")
    assert kbtext.stem("settings") == kbtext.stem("setting")
    assert kbtext.stems("нет и в интернета") == [kbtext.stem("интернета")]


def test_short_query_with_a_typo_is_corrected() -> None:
    assert VOCAB.correct("роуменг") == "роуминг"
    assert VOCAB.correct("roamnig") == "roaming"


def test_known_words_and_inflections_are_left_alone() -> None:
    assert VOCAB.correct("роуминга") is None  # same stem as an article word
    assert VOCAB.correct("apn") is None


def test_long_queries_are_not_corrected() -> None:
    assert VOCAB.correct("роуменг интернет настройки связь граница") is None


def test_words_too_far_from_any_article_word_stay_as_typed() -> None:
    assert VOCAB.correct("абвгдежз") is None
