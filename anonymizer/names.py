"""Person names in Russian and English free text, in any letter case, offline.

Three sources, united:

* natasha's NER (slovnet model shipped inside the pip package) tags PER spans in properly cased Russian;
* pymorphy3's dictionary tags ``Name`` / ``Surn`` / ``Patr`` catch names the NER misses, lowercase or
  declined ("звонила ивановой марии");
* for English, a given-name and surname lexicon (the person-name tables shipped with Faker for the
  English-speaking locales) plus titles (Mr, Mrs, Dr…);
* Russian names written in Latin letters ("Ivanov Petr", "Smirnova Olga Viktorovna"): each capitalised
  Latin word is read back into Cyrillic (passport, BGN and everyday spellings) and asked of pymorphy3.

A surname that names streets everywhere («Ленина», «Гагарина») alone after «на», «по», "on" is a street.

Words that are also everyday words ("вера", "роман", "bill", "mark") count only when capitalised in the
middle of a sentence or next to another name part, so ordinary notes are not blanked out.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

from anonymizer.name_words import (
    ABBREVIATIONS,
    EN_AMBIGUOUS,
    EN_NEVER,
    EN_PLACES,
    EN_PRODUCT_WORDS,
    EN_STREET_WORDS,
    PLACE_PREPOSITIONS,
    RU_AMBIGUOUS,
    STREET_EPONYMS,
)

_TOKEN_RE = re.compile(r"[A-Za-zА-ЯЁа-яё][A-Za-zА-ЯЁа-яё'’]*(?:-[A-Za-zА-ЯЁа-яё]+)?")
_CYR = re.compile(r"[А-ЯЁа-яё]")
_INITIALS_RE = re.compile(r"\s*[А-ЯЁA-Z]\.\s?(?:[А-ЯЁA-Z]\.)?")
# initials before a capitalised word: "Д.А. Комаров", "А. В. Лысенко", "I.P. Sidorov"
_INITIALS_FIRST_RE = re.compile(
    r"(?<![\w.])[А-ЯЁA-Z]\.\s?(?:[А-ЯЁA-Z]\.\s?)?[А-ЯЁA-Z][а-яёa-z]+(?:-[А-ЯЁA-Z][а-яёa-z]+)?"
)
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "v", "md", "dds", "phd", "dvm"}
# a Russian surname by its ending, joined to a name found next to it ("ЛАПИН Ростислав")
_RU_SURNAME_END = re.compile(r"(?:ов|ев|ёв|ин|ын|ова|ева|ёва|ина|ына|ский|ская|цкий|цкая|ко|юк|ук|ых|их)$")
_TITLES = {"mr", "mrs", "ms", "miss", "dr", "sir", "madam", "господин", "госпожа", "г-н", "г-жа"}
_NAME_TAGS = ("Name", "Surn", "Patr")


# Russian names written in Latin letters (passport, BGN and everyday spellings): longest first
_LATIN_TO_CYR = [
    ("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("tz", "ц"), ("ch", "ч"), ("sh", "ш"),
    ("yu", "ю"), ("iu", "ю"), ("ya", "я"), ("ia", "ия"), ("yo", "ё"), ("ye", "е"), ("iy", "ий"), ("yy", "ый"),
    ("ii", "ий"), ("ey", "ей"), ("ay", "ай"), ("oy", "ой"), ("uy", "уй"), ("a", "а"), ("b", "б"), ("v", "в"),
    ("w", "в"), ("g", "г"), ("d", "д"), ("e", "е"), ("z", "з"), ("i", "и"), ("y", "ы"), ("k", "к"), ("l", "л"),
    ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф"),
    ("h", "х"), ("c", "к"), ("x", "кс"), ("j", "й"), ("q", "к"),
]  # fmt: skip
_CONSONANTS = set("бвгджзйклмнпрстфхцчшщ")


_IOTATED = {"ya": "я", "yu": "ю", "yo": "ё", "ye": "е", "ia": "я", "iu": "ю"}


def _to_cyrillic(word: str) -> list[str]:
    """Cyrillic readings of a Latin word ("Olga" → ольга; "Dmitriy" → дмитрий; "Tatiana", "Ilya" →
    татьяна, илья: the soft sign that Latin spellings drop is tried where Russian would write it)."""
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(word):
        for lat, cyr in _LATIN_TO_CYR:
            if word.startswith(lat, i):
                tokens.append((lat, cyr))
                i += len(lat)
                break
        else:
            return []
    plain = "".join(c for _, c in tokens)
    soft_parts: list[str] = []
    for j, (lat, cyr) in enumerate(tokens):
        after_consonant = j > 0 and tokens[j - 1][1][-1:] in _CONSONANTS
        if lat in _IOTATED and after_consonant:
            soft_parts.append("ь" + _IOTATED[lat])
        elif cyr == "л" and j + 1 < len(tokens) and tokens[j + 1][1][:1] in _CONSONANTS:
            soft_parts.append("ль")
        else:
            soft_parts.append(cyr)
    readings = [plain, "".join(soft_parts)]
    if plain.startswith("е"):
        readings.append("э" + plain[1:])
    if plain.endswith("ы"):
        readings.append(plain[:-1] + "ий")
    return list(dict.fromkeys(readings))


class _Models:
    """natasha and pymorphy3 objects, loaded once per process on first use (never at import)."""

    _lock = threading.Lock()
    _loaded: _Models | None = None

    def __init__(self) -> None:
        import pymorphy3
        from natasha import NewsEmbedding, NewsNERTagger
        from threadpoolctl import ThreadpoolController

        self.morph = pymorphy3.MorphAnalyzer()
        self.ner = NewsNERTagger(NewsEmbedding())
        self.blas_limit = ThreadpoolController().limit
        self.en_first, self.en_last = _english_lexicon()

    @classmethod
    def get(cls) -> _Models:
        if cls._loaded is None:
            with cls._lock:
                if cls._loaded is None:
                    cls._loaded = cls()
        return cls._loaded


def _english_lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """Given names and surnames of the English-speaking locales, lower-cased."""
    import importlib

    first: set[str] = set()
    last: set[str] = set()
    for loc in ("en_US", "en_GB", "en_CA", "en_AU", "en_NZ", "en_IE"):
        try:
            p: Any = importlib.import_module(f"faker.providers.person.{loc}").Provider
        except ImportError:
            continue
        for attr in ("first_names", "first_names_male", "first_names_female"):
            first.update(n.lower() for n in getattr(p, attr, ()) or ())
        last.update(n.lower() for n in getattr(p, "last_names", ()) or ())
    return frozenset(first), frozenset(last)


def warm_up() -> None:
    """Load the models now (servers call this at start so the first note is not slow)."""
    _Models.get()


@lru_cache(maxsize=200_000)
def _ru_score(word: str) -> float:
    """2 = a name part in the dictionary, 1 = a name among other readings, 0.6 = a guessed surname, 0 = none."""
    if word in ABBREVIATIONS:
        return 0.0
    if word in RU_AMBIGUOUS:
        return 0.5
    morph = _Models.get().morph
    parses = morph.parse(word)
    # a misspelt word ("аобнент") is analysed by analogy and may come out as a name: not evidence alone
    known = morph.word_is_known(word)
    best = 0.0
    for rank, p in enumerate(parses[:4]):
        if not any(t in p.tag for t in _NAME_TAGS):
            continue
        from_dict = known and len(p.methods_stack) == 1
        if from_dict and rank == 0:
            best = 2.0
        elif from_dict and ("Name" in p.tag or "Patr" in p.tag) and "plur" not in p.tag:
            best = max(best, 1.0)  # "Вера": a noun first, a given name too
        else:
            best = max(best, 0.6)  # only the suffix predictor thinks so: counts next to another name part
    return best


@lru_cache(maxsize=50_000)
def _latin_ru_score(word: str) -> float:
    """A Russian name part written in Latin letters: the best dictionary score of its readings."""
    if len(word) < 3 or not word.isascii():
        return 0.0
    best = 0.0
    for reading in _to_cyrillic(word):
        score = _ru_score(reading)
        best = max(best, score if score >= 2.0 else 0.0)
    return best


@lru_cache(maxsize=50_000)
def _known_word(word: str) -> bool:
    """An everyday word of pymorphy3's dictionary ("слов", "готов"): no surname by its ending alone."""
    return bool(_Models.get().morph.word_is_known(word))


def _en_score(word: str, models: _Models) -> float:
    if word in EN_PRODUCT_WORDS or word in EN_STREET_WORDS:
        return 0.0
    if word in EN_PLACES:
        return 0.5
    if word in EN_NEVER:
        return 0.5
    if word in models.en_first:
        return 0.5 if word in EN_AMBIGUOUS else 2.0
    if word in models.en_last:
        return 0.5 if word in EN_AMBIGUOUS else 1.0
    return 0.0


def _sentence_start(text: str, pos: int) -> bool:
    i = pos - 1
    while i >= 0 and text[i] in ' \t"«(':
        i -= 1
    return i < 0 or text[i] in ".!?\n:;"


def find_names(text: str, ner_spans: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """Character spans of person names in ``text``.

    ``ner_spans`` lets a caller pass PER spans it already computed in a batch (``ner_batch``)."""
    models = _Models.get()
    ner = list(ner_spans) if ner_spans is not None else ner_person_spans(text)
    tokens = list(_TOKEN_RE.finditer(text))
    spans: list[tuple[int, int]] = []
    for start, end in ner:
        words = _TOKEN_RE.findall(text[start:end])
        # a one-word PER needs the dictionary to agree ("Смарт" is a tariff, not a surname)
        # a PER needs the dictionary to agree on at least one of its words ("Смарт Плюс" is a tariff)
        known = [w for w in words if (_ru_score(w.lower()) >= 1.0 if _CYR.match(w) else True)]
        if known and not (len(words) == 1 and _street_context(text, start, words[0])):
            spans.append((start, end))
    spans.extend(
        m.span() for m in _INITIALS_FIRST_RE.finditer(text) if not _looks_like_abbreviation(m.group())
    )
    scored: list[tuple[int, int, float, bool]] = []
    prev_title = False
    for m in tokens:
        w = m.group()
        low = w.lower().replace("’", "'")
        cap = w[0].isupper()
        if low in _TITLES or low.rstrip(".") in _TITLES:
            prev_title = True
            scored.append((m.start(), m.end(), 0.01, cap))  # joins a following name, never a name alone
            continue
        if low in _SUFFIXES and scored and scored[-1][2] > 0:
            scored.append((m.start(), m.end(), 0.01, cap))
            continue
        if _CYR.match(w):
            s = _ru_score(low) if len(low) > 1 else 0.0
            if s == 0 and _RU_SURNAME_END.search(low) and len(low) > 3 and not _known_word(low):
                s = 0.02  # joins a neighbouring name, never a name alone
        else:
            s = _en_score(low, models) if len(low) > 1 else 0.0
            if s == 0 and cap and low not in EN_AMBIGUOUS:
                s = _latin_ru_score(low)  # "Ivanov Petr", "Smirnova Olga": lower case Latin is English text
        if (
            cap
            and s >= 0.5
            and (s >= 1.0 or not _CYR.match(w))
            and not _sentence_start(text, m.start())
            and not w.isupper()
            and low not in EN_NEVER
            and low not in EN_PLACES
        ):
            s = max(s, 2.0)
        if prev_title and cap:
            s = max(s, 2.0)
        prev_title = False
        scored.append((m.start(), m.end(), s, cap))

    # a word between two name parts is one too ("ИСАЕВА СОФИЯ ДМИТРИЕВНА": София is also a city)
    for i in range(1, len(scored) - 1):
        if scored[i][2] == 0 and scored[i - 1][2] >= 0.5 and scored[i + 1][2] >= 0.5:
            gaps = text[scored[i - 1][1] : scored[i][0]] + text[scored[i][1] : scored[i + 1][0]]
            if gaps.strip() == "" and "\n" not in gaps:
                scored[i] = (scored[i][0], scored[i][1], 0.3, scored[i][3])

    # group runs of neighbouring name-ish tokens (separated by spaces only)
    i = 0
    while i < len(scored):
        if scored[i][2] <= 0:
            i += 1
            continue
        j = i
        while j + 1 < len(scored) and scored[j + 1][2] > 0:
            gap = text[scored[j][1] : scored[j + 1][0]]
            left = text[scored[j][0] : scored[j][1]]
            dotted = left.lower() in _TITLES or (len(left) == 1 and left.isupper())
            if "\n" in gap or gap.strip() not in (("", ".") if dotted else ("",)):
                break
            j += 1
        total = sum(t[2] for t in scored[i : j + 1])
        best = max(t[2] for t in scored[i : j + 1])
        alone = j == i and _street_context(text, scored[i][0], text[scored[i][0] : scored[i][1]])
        if not alone and (best >= 2.0 or (j > i and total >= 1.5 and best >= 1.0)):
            while j > i and text[scored[j][0] : scored[j][1]].lower() in _TITLES:
                j -= 1
            start, end = scored[i][0], scored[j][1]
            if end < len(text) and text[end] == "." and text[scored[j][0] : end].lower() in _SUFFIXES:
                end += 1
            m2 = _INITIALS_RE.match(text, end)
            if m2 and m2.group().strip():
                end = m2.end()
            spans.append((start, end))
        i = j + 1
    return spans


def _looks_like_abbreviation(match: str) -> bool:
    """«г. Москва», «ул. Ленина», «Т. к.» are no initials: a lower-case letter or a known street/place word."""
    first = match.split(".")[0]
    word = match.rsplit(None, 1)[-1].split(".")[-1].lower()
    return first.lower() == first or word in STREET_EPONYMS


def _street_context(text: str, start: int, word: str) -> bool:
    """«на Ленина», «по Гагарина», "on Lenina": a street named after someone, not a person."""
    low = word.lower()
    if low not in STREET_EPONYMS and not any(r in STREET_EPONYMS for r in _to_cyrillic(low)):
        return False
    before = text[max(0, start - 12) : start].lower().split()
    return bool(before) and before[-1] in PLACE_PREPOSITIONS


def ner_person_spans(text: str) -> list[tuple[int, int]]:
    """PER spans from natasha's NER (Russian text only; empty for text without Cyrillic)."""
    if not _CYR.search(text):
        return []
    return ner_batch([text])[0]


def ner_batch(texts: list[str]) -> list[list[tuple[int, int]]]:
    """``ner_person_spans`` for many texts at once (the NER runs batched, several times faster)."""
    out: list[list[tuple[int, int]]] = [[] for _ in texts]
    idx = [i for i, t in enumerate(texts) if _CYR.search(t)]
    if not idx:
        return out
    models = _Models.get()
    # one BLAS thread: the model's matrices are small, and threads spinning against a busy machine
    # made it four times slower
    with models.blas_limit(limits=1):
        for i, markup in zip(idx, models.ner.map([texts[i] for i in idx]), strict=True):
            out[i] = [(s.start, s.stop) for s in markup.spans if s.type == "PER"]
    return out
