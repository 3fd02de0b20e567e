"""Tokenising and stemming for search in Russian and English.

Each word is stemmed by the Snowball stemmer of its script (Cyrillic → Russian, Latin → English), so
"интернета" and "интернет", "settings" and "setting" meet. PostgreSQL uses its own ``russian`` and
``english`` configurations instead; this module serves the SQLite index and the typo corrector.
"""

from __future__ import annotations

import re
import threading

import Stemmer

WORD_RE = re.compile(r"[0-9a-zа-яё]+", re.IGNORECASE)
_CYRILLIC = re.compile(r"[а-яё]")

# the most frequent function words (Snowball lists, abridged): they carry no meaning for search
STOPWORDS = frozenset(
    [
        "и",
        "в",
        "во",
        "не",
        "что",
        "он",
        "на",
        "я",
        "с",
        "со",
        "как",
        "а",
        "то",
        "все",
        "она",
        "так",
        "его",
        "но",
        "да",
        "ты",
        "к",
        "у",
        "же",
        "вы",
        "за",
        "бы",
        "по",
        "только",
        "ее",
        "мне",
        "было",
        "вот",
        "от",
        "меня",
        "еще",
        "нет",
        "о",
        "из",
        "ему",
        "теперь",
        "когда",
        "даже",
        "ну",
        "вдруг",
        "ли",
        "если",
        "уже",
        "или",
        "ни",
        "быть",
        "был",
        "него",
        "до",
        "вас",
        "нибудь",
        "опять",
        "уж",
        "вам",
        "ведь",
        "там",
        "потом",
        "себя",
        "ничего",
        "ей",
        "может",
        "они",
        "тут",
        "где",
        "есть",
        "надо",
        "ней",
        "для",
        "мы",
        "тебя",
        "их",
        "чем",
        "была",
        "сам",
        "чтоб",
        "без",
        "будто",
        "чего",
        "раз",
        "тоже",
        "себе",
        "под",
        "будет",
        "ж",
        "тогда",
        "кто",
        "этот",
        "того",
        "потому",
        "этого",
        "какой",
        "совсем",
        "ним",
        "здесь",
        "этом",
        "один",
        "почти",
        "мой",
        "тем",
        "чтобы",
        "нее",
        "были",
        "куда",
        "зачем",
        "всех",
        "никогда",
        "можно",
        "при",
        "наконец",
        "два",
        "об",
        "другой",
        "хоть",
        "после",
        "над",
        "больше",
        "тот",
        "через",
        "эти",
        "нас",
        "про",
        "всего",
        "них",
        "какая",
        "много",
        "разве",
        "три",
        "эту",
        "моя",
        "впрочем",
        "хорошо",
        "свою",
        "этой",
        "перед",
        "иногда",
        "лучше",
        "чуть",
        "том",
        "нельзя",
        "такой",
        "им",
        "более",
        "всегда",
        "конечно",
        "всю",
        "между",
        "это",
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "with",
        "as",
        "by",
        "from",
        "not",
        "no",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "i",
        "you",
        "he",
        "she",
        "we",
        "they",
        "my",
        "your",
        "our",
        "their",
        "if",
        "then",
        "so",
        "can",
        "will",
    ]
)

_local = threading.local()


def _stemmers() -> tuple[Stemmer.Stemmer, Stemmer.Stemmer]:
    st = getattr(_local, "stemmers", None)
    if st is None:  # Stemmer objects are not thread-safe: one pair per thread
        st = (Stemmer.Stemmer("russian"), Stemmer.Stemmer("english"))
        _local.stemmers = st
    return st  # type: ignore[no-any-return]


def words(text: str) -> list[str]:
    """Lower-cased words (ё folded to е)."""
    return [w.replace("ё", "е") for w in WORD_RE.findall(text.lower())]


def stem(word: str) -> str:
    ru, en = _stemmers()
    return ru.stemWord(word) if _CYRILLIC.search(word) else en.stemWord(word)


def stems(text: str, *, drop_stopwords: bool = True) -> list[str]:
    """The stems of the meaningful words of ``text``, in order."""
    ru, en = _stemmers()
    out = []
    for w in words(text):
        if drop_stopwords and w in STOPWORDS:
            continue
        out.append(ru.stemWord(w) if _CYRILLIC.search(w) else en.stemWord(w))
    return out
