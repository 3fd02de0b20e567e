"""Measure the scrubber: recall per kind, false-positive rate, notes per second.

The figure that counts is on ``benchmarks/data/pii_notes.txt``: notes written by hand the way operators
write them, independently of the scrubber's code and lexicons (``load_marked`` reads its
``[[KIND:text]]`` markup). The generated set (``tests/support/pii_notes.py``) only measures throughput.

A piece of personal data counts as caught when every letter and digit of it is covered by found spans
(whatever kind they are typed as: what matters is that nothing of it leaves); ``typed_recall`` also
asks for the right placeholder.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anonymizer.scrubber import KINDS, Span, find_pii_many, scrub_many


@dataclass
class Note:
    """A note with the personal data in it: ``(start, end, kind)`` of every piece."""

    text: str
    lang: str
    pii: list[tuple[int, int, str]] = field(default_factory=list)


_MARK = re.compile(r"\[\[([A-Z]+):(.+?)\]\]")


def parse_marked(line: str) -> Note:
    """``"звонил [[NAME:Иванов Пётр]]"`` → the note's text and the span of each marked piece."""
    text: list[str] = []
    pii: list[tuple[int, int, str]] = []
    pos = length = 0
    for m in _MARK.finditer(line):
        text.append(line[pos : m.start()])
        length += m.start() - pos
        value = m.group(2)
        pii.append((length, length + len(value), m.group(1)))
        text.append(value)
        length += len(value)
        pos = m.end()
    text.append(line[pos:])
    body = "".join(text)
    return Note(body, "ru" if re.search("[А-Яа-яЁё]", body) else "en", pii)


def load_marked(path: Path) -> tuple[list[Note], list[Note]]:
    """Notes with personal data and clean notes from a marked file (``#`` lines are comments)."""
    notes = [parse_marked(line) for line in path.read_text("utf-8").splitlines() if line.strip()
             and not line.startswith("#")]  # fmt: skip
    unknown = {kind for n in notes for _, _, kind in n.pii} - set(KINDS)
    if unknown:
        raise ValueError(f"{path}: unknown kinds {sorted(unknown)}")
    return [n for n in notes if n.pii], [n for n in notes if not n.pii]


def _covered(text: str, start: int, end: int, spans: list[Span], kind: str | None = None) -> bool:
    for i in range(start, end):
        if not text[i].isalnum():
            continue
        if not any(s.start <= i < s.end and (kind is None or s.kind == kind) for s in spans):
            return False
    return True


def evaluate(notes: list[Note], clean: list[Note], batch: int = 64) -> dict[str, Any]:
    """Recall per kind, typed recall, false-positive rate and throughput over both sets."""
    found: list[list[Span]] = []
    t0 = time.perf_counter()
    for i in range(0, len(notes), batch):
        found.extend(find_pii_many([n.text for n in notes[i : i + batch]]))
    found_clean: list[list[Span]] = []
    for i in range(0, len(clean), batch):
        found_clean.extend(find_pii_many([n.text for n in clean[i : i + batch]]))
    elapsed = time.perf_counter() - t0

    total = dict.fromkeys(KINDS, 0)
    hit = dict.fromkeys(KINDS, 0)
    typed = dict.fromkeys(KINDS, 0)
    misses: list[tuple[str, str]] = []
    for note, spans in zip(notes, found, strict=True):
        for start, end, kind in note.pii:
            total[kind] += 1
            if _covered(note.text, start, end, spans):
                hit[kind] += 1
                if _covered(note.text, start, end, spans, kind):
                    typed[kind] += 1
            else:
                misses.append((kind, note.text))
    false_pos = [n.text for n, s in zip(clean, found_clean, strict=True) if s]
    # words of a note with personal data that are not personal data, yet were replaced (over-scrubbing)
    words = over = 0
    for note, spans in zip(notes, found, strict=True):
        for m in re.finditer(r"\w+", note.text):
            if any(s <= m.start() < e for s, e, _ in note.pii):
                continue
            words += 1
            over += any(sp.start <= m.start() < sp.end for sp in spans)
    n_all = len(notes) + len(clean)
    return {
        "notes": len(notes),
        "clean_notes": len(clean),
        "recall": {k: round(hit[k] / total[k], 4) for k in KINDS if total[k]},
        "typed_recall": {k: round(typed[k] / total[k], 4) for k in KINDS if total[k]},
        "false_positive_rate": round(len(false_pos) / max(1, len(clean)), 4),
        "over_scrubbed_word_rate": round(over / max(1, words), 4),
        "notes_per_s": round(n_all / elapsed, 1) if elapsed else None,
        "_misses": misses,
        "_false_positives": false_pos,
    }


def scrub_throughput(texts: list[str], batch: int = 64) -> float:
    """Notes per second through ``scrub_many`` (models already loaded)."""
    t0 = time.perf_counter()
    for i in range(0, len(texts), batch):
        scrub_many(texts[i : i + batch])
    return len(texts) / (time.perf_counter() - t0)
