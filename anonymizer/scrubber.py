"""Free-text personal-data scrubber: ``scrub(text)`` replaces personal data with typed placeholders.

Used wherever an operator's note leaves the operator's screen (emerging-topic examples, exports, logs).
Finds person names (Russian and English, any letter case), phones in every Russian notation, emails,
passports, SNILS and INN (check digits verified), bank cards (Luhn; Mir 2200–2204 included),
addresses, account and contract numbers (the billing mapping's formats, and context) and birth dates. Runs fully offline: natasha and pymorphy3 ship their models inside their pip packages.

    >>> scrub("Звонил Иванов Иван, тел. +7 (916) 123-45-67")
    'Звонил [NAME], тел. [PHONE]'
"""

from __future__ import annotations

from dataclasses import dataclass

from anonymizer.names import find_names, ner_batch, warm_up
from anonymizer.pii_patterns import STRUCTURED_FINDERS

KINDS = ("NAME", "PHONE", "EMAIL", "PASSPORT", "SNILS", "INN", "CARD", "ADDRESS", "ACCOUNT", "BIRTHDATE")

__all__ = ["KINDS", "Span", "find_pii", "find_pii_many", "scrub", "scrub_many", "warm_up"]


@dataclass(frozen=True, slots=True)
class Span:
    """One piece of personal data: ``text[start:end]`` is of ``kind`` (one of ``KINDS``).

    The matched text itself is deliberately not kept, so a Span can be logged safely."""

    start: int
    end: int
    kind: str

    @property
    def placeholder(self) -> str:
        return f"[{self.kind}]"


def _resolve(found: list[tuple[int, int, str]]) -> list[Span]:
    """Drop overlaps: structured identifiers (earlier in the list) win over later ones; names lose to
    anything that overlaps them, except that an address swallows the names inside it."""
    out: list[Span] = []
    taken: list[tuple[int, int]] = []
    for start, end, kind in found:
        if start >= end:
            continue
        if any(start < e and s < end for s, e in taken):
            continue
        taken.append((start, end))
        out.append(Span(start, end, kind))
    out.sort(key=lambda s: s.start)
    return out


def _find(text: str, ner_spans: list[tuple[int, int]] | None) -> list[Span]:
    found: list[tuple[int, int, str]] = []
    for finder in STRUCTURED_FINDERS:
        found.extend(finder(text))
    # an address is a longer span: let it take its street names ("ул. Пушкина") before names do
    addresses = sorted((f for f in found if f[2] == "ADDRESS"), key=lambda f: f[0] - f[1])
    others = [f for f in found if f[2] != "ADDRESS"]
    names = [(s, e, "NAME") for s, e in find_names(text, ner_spans)]
    return _resolve(others + addresses + _merge(names))


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Union overlapping spans of one kind (NER and dictionary may see the same name)."""
    spans = sorted(spans)
    out: list[tuple[int, int, str]] = []
    for s, e, k in spans:
        if out and s <= out[-1][1]:
            ps, pe, pk = out[-1]
            out[-1] = (ps, max(pe, e), pk)
        else:
            out.append((s, e, k))
    return out


def find_pii(text: str) -> list[Span]:
    """Every piece of personal data found in ``text``, non-overlapping, in text order."""
    if not text:
        return []
    return _find(text, None)


def find_pii_many(texts: list[str]) -> list[list[Span]]:
    """``find_pii`` for a batch (the NER runs batched: use this for bulk work)."""
    ner = ner_batch(texts)
    return [_find(t, n) if t else [] for t, n in zip(texts, ner, strict=True)]


def _apply(text: str, spans: list[Span]) -> str:
    parts: list[str] = []
    pos = 0
    for sp in spans:
        parts.append(text[pos : sp.start])
        parts.append(sp.placeholder)
        pos = sp.end
    parts.append(text[pos:])
    return "".join(parts)


def scrub(text: str) -> str:
    """``text`` with each piece of personal data replaced by its placeholder ([NAME], [PHONE], …)."""
    if not text:
        return text or ""
    return _apply(text, find_pii(text))


def scrub_many(texts: list[str]) -> list[str]:
    """``scrub`` for a batch of notes (faster than one at a time)."""
    return [_apply(t, s) for t, s in zip(texts, find_pii_many(texts), strict=True)]
