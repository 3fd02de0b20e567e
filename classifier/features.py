"""Text normalisation and the card-context features the classifier uses beside the note.

Context features are booleans the operator's screen already knows about the caller when the note is typed;
they shift the suggestion (a negative balance makes "payment not credited" likelier, roaming charges this
month make "roaming" likelier). They never carry personal data.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

CONTEXT_FEATURES: tuple[str, ...] = ("negative_balance", "blocked", "roaming_charges", "service_changed")
# notes longer than this are classified on their beginning (a 1 MB paste is truncated, not refused)
MAX_TEXT_CHARS = 2000
# a service whose status changed within this many days counts as "changed recently"
SERVICE_CHANGED_DAYS = 14

_SPACES = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def normalise(text: str | None) -> str:
    """Lower-case, ``ё``→``е``, NFKC, collapsed spaces, truncated to ``MAX_TEXT_CHARS``."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text[: MAX_TEXT_CHARS * 2])[:MAX_TEXT_CHARS]
    return _SPACES.sub(" ", text.lower().replace("ё", "е")).strip()


def has_letters(text: str) -> bool:
    """True when the text has at least one letter (not only digits, emoji, punctuation)."""
    return bool(_LETTER.search(text))


def context_vector(context: Mapping[str, Any] | None) -> list[float]:
    """The context mapping as a fixed-order 0/1 vector (missing keys are 0)."""
    if not context:
        return [0.0] * len(CONTEXT_FEATURES)
    return [1.0 if context.get(f) in (True, 1, "1", "true", "True") else 0.0 for f in CONTEXT_FEATURES]


def context_matrix(contexts: Sequence[Mapping[str, Any] | None] | None, n: int) -> np.ndarray:
    """``n`` × len(CONTEXT_FEATURES) matrix; all zeros when ``contexts`` is None."""
    if contexts is None:
        return np.zeros((n, len(CONTEXT_FEATURES)))
    return np.asarray([context_vector(c) for c in contexts], dtype=float).reshape(n, len(CONTEXT_FEATURES))


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def context_from_card(
    card: Any, month_charges: Sequence[Any] = (), today: date | None = None
) -> dict[str, bool]:
    """Context flags from a billing ``Card`` (or its dict) and this month's ``MonthCharges`` list."""
    today = today or date.today()

    def get(obj: Any, name: str, default: Any = None) -> Any:
        return obj.get(name, default) if isinstance(obj, Mapping) else getattr(obj, name, default)

    balance = float(get(card, "balance", 0) or 0)
    status = str(get(card, "status", "") or "")
    changed = False
    for svc in get(card, "services", []) or []:
        since = _as_date(get(svc, "since"))
        if since and today - since <= timedelta(days=SERVICE_CHANGED_DAYS):
            changed = True
    this_month = today.strftime("%Y-%m")
    roaming = False
    for month in month_charges:
        if get(month, "month") != this_month:
            continue
        for item in get(month, "items", []) or []:
            if get(item, "category") == "roaming" and float(get(item, "amount", 0) or 0) > 0:
                roaming = True
    return {
        "negative_balance": balance < 0,
        "blocked": status in ("blocked", "suspended"),
        "roaming_charges": roaming,
        "service_changed": changed,
    }
