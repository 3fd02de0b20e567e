"""Measure the scrubber on the generated notes: recall per kind, false-positive rate, notes per second.

A piece of personal data counts as caught when every letter and digit of it is covered by found spans
(whatever kind they are typed as: what matters is that nothing of it leaves); ``typed_recall`` also
asks for the right placeholder.
"""

from __future__ import annotations

import time
from typing import Any

from anonymizer.pii_testset import Note
from anonymizer.scrubber import KINDS, Span, find_pii_many, scrub_many


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
    n_all = len(notes) + len(clean)
    return {
        "notes": len(notes),
        "clean_notes": len(clean),
        "recall": {k: round(hit[k] / total[k], 4) for k in KINDS if total[k]},
        "typed_recall": {k: round(typed[k] / total[k], 4) for k in KINDS if total[k]},
        "false_positive_rate": round(len(false_pos) / max(1, len(clean)), 4),
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
