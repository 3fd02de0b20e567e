"""Pure helpers of the lookup: month windows, and turning search-box text into bound query parameters.

Search text is only ever classified and passed as parameter values: it never becomes SQL text.
"""

from __future__ import annotations

import contextlib
import re
from datetime import date
from typing import Any

from billing_adapter.phones import BadNumber, normalise_msisdn

MAX_QUERY_LEN = 100
_NAME_WORD = re.compile(r"^[A-Za-zА-Яа-яЁё][A-Za-zА-Яа-яЁё'\-]*$")
_CONTRACT = re.compile(r"^[\w\-/]{3,40}$")


def _shift(d: date, months: int) -> str:
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    return f"{y:04d}-{m + 1:02d}"


def month_range(today: date, months: int, *, full_only: bool) -> tuple[str, str]:
    """('YYYY-MM', 'YYYY-MM') inclusive. ``full_only``: the ``months`` full months before this one
    (ARPU); otherwise the same window plus the current, still open month."""
    months = max(1, months)
    return _shift(today, -months), _shift(today, -1 if full_only else 0)


def name_patterns(text: str) -> dict[str, str] | None:
    """'иванов иван' → {'last_name': 'Иванов%', 'first_name': 'Иван%'}; None if not a name."""
    words = text.split()
    if not 1 <= len(words) <= 3 or not all(_NAME_WORD.match(w) for w in words):
        return None
    cap = [w[:1].upper() + w[1:].lower() for w in words]
    return {"last_name": cap[0] + "%", "first_name": (cap[1] + "%") if len(cap) > 1 else "%"}


def search_plan(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Which mapped queries to run, with which bound parameters, for a search-box text."""
    q = (text or "").strip()[:MAX_QUERY_LEN]
    if not q:
        return []
    plan: list[tuple[str, dict[str, Any]]] = []
    compact = re.sub(r"[\s()\-]", "", q)
    if re.fullmatch(r"\+?\d{5,15}", compact):
        with contextlib.suppress(BadNumber):
            plan.append(("subscriber_by_msisdn", {"msisdn": normalise_msisdn(q)}))
        plan.append(("subscriber_by_account", {"account": compact.lstrip("+")}))
    if _CONTRACT.match(q):
        plan.append(("subscriber_by_contract", {"contract": q}))
    names = name_patterns(q)
    if names:
        plan.append(("subscriber_by_name", names))
    return plan
