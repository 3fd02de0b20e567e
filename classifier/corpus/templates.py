"""Phrase templates of the bootstrap corpus, Russian and English, per topic.

Bootstrap data only: a real deployment learns from its own operators' records. The phrases are package
data, one file per language (``ru.json``, ``en.json``: ``slots``, ``topics``, ``out_of_scope``,
``openers``, ``closers``), read once at import. Templates carry slots in braces (``{service}``) filled
from ``SLOTS``, the slots of both files (a language's slot names are its own: ``{service_en}``); the
generator adds openers, closers, typos and card context.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_HERE = Path(__file__).parent


def _load(lang: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((_HERE / f"{lang}.json").read_text(encoding="utf-8"))
    return data


_RU, _EN = _load("ru"), _load("en")
_shared = _RU["slots"].keys() & _EN["slots"].keys()
if any(_RU["slots"][k] != _EN["slots"][k] for k in _shared):
    raise ValueError(f"ru.json and en.json give different values for the slots {sorted(_shared)}")

SLOTS: dict[str, list[str]] = {**_RU["slots"], **_EN["slots"]}
RU: dict[str, list[str]] = _RU["topics"]
EN: dict[str, list[str]] = _EN["topics"]
OUT_OF_SCOPE_RU: list[str] = _RU["out_of_scope"]
OUT_OF_SCOPE_EN: list[str] = _EN["out_of_scope"]
OPENERS_RU: list[str] = _RU["openers"]
CLOSERS_RU: list[str] = _RU["closers"]
OPENERS_EN: list[str] = _EN["openers"]
CLOSERS_EN: list[str] = _EN["closers"]
