"""Call scripts: per-topic text with ``{placeholders}`` filled from the subscriber's card.

Only a bare ``{name}`` naming a card field (``billing_adapter.models.Card``) or ``operator_name`` is a
placeholder; anything else in braces (``{balance.__class__}``, ``{0}``, ``{unknown}``) is refused when
the script is saved, so a script can never show a hole or read attributes. Filling is a plain
substitution, never ``str.format``. ``{{`` and ``}}`` write literal braces.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from typing import Any

from billing_adapter.formats import display_number, money, short_date
from billing_adapter.models import Card
from knowledge_base.errors import BadScript

CARD_FIELDS = tuple(f.name for f in dataclasses.fields(Card) if f.name not in ("services", "extra"))
EXTRA_FIELDS = ("operator_name",)
ALLOWED_PLACEHOLDERS = frozenset(CARD_FIELDS + EXTRA_FIELDS)
MAX_SCRIPT_CHARS = 20_000

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
MISSING = "—"


def placeholders(body: str) -> list[str]:
    """Placeholder names in order of appearance; raises BadScript for anything malformed or unknown."""
    found: list[str] = []
    unknown: list[str] = []
    for m in _TOKEN.finditer(body):
        tok = m.group(0)
        if tok in ("{{", "}}"):
            continue
        name = m.group(1)
        if name is None:
            raise BadScript(
                "unbalanced brace in the script: write {{ or }} for a literal brace",
                error_id="script_brace",
                details={"at": m.start()},
            )
        if name not in ALLOWED_PLACEHOLDERS:
            unknown.append(name)
        elif name not in found:
            found.append(name)
    if unknown:
        raise BadScript(
            f"unknown placeholder {{{unknown[0]}}}: use one of the card fields",
            error_id="unknown_placeholder",
            details={"unknown": unknown, "allowed": sorted(ALLOWED_PLACEHOLDERS)},
        )
    return found


def validate_script(title: str, body: str) -> None:
    if not title.strip():
        raise BadScript("the script needs a title", error_id="script_no_title")
    if not body.strip():
        raise BadScript("the script is empty", error_id="script_empty")
    if len(body) > MAX_SCRIPT_CHARS:
        raise BadScript(
            f"the script is longer than {MAX_SCRIPT_CHARS} characters",
            error_id="text_too_long",
            details={"max": MAX_SCRIPT_CHARS},
        )
    placeholders(body)


MONEY_FIELDS = frozenset({"balance", "credit_limit", "arpu"})
PHONE_FIELDS = frozenset({"msisdn"})
# a script written when money came out bare ("{balance} руб.") does not name the currency twice now
_CURRENCY_AFTER_MONEY = re.compile(
    r"(\{(?:" + "|".join(sorted(MONEY_FIELDS)) + r")\})\s*(?:руб\.?|₽|RUB|rub\.?)"
)


def _show(name: str, value: Any, lang: str) -> str:
    """A card value as the card on the operator's screen shows it, in the script's language."""
    if value is None or value == "":
        return MISSING
    if name in MONEY_FIELDS and isinstance(value, int | float):
        return money(value, lang)
    if name in PHONE_FIELDS:
        return display_number(str(value))
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, date):
        return short_date(value, lang)
    return str(value)


def card_values(card: Card | None, operator_name: str | None = None, lang: str = "ru") -> dict[str, str]:
    """The placeholders' values from the card: money, numbers and dates formatted for ``lang``."""
    values = {name: _show(name, getattr(card, name, None), lang) if card else MISSING for name in CARD_FIELDS}
    values["operator_name"] = _show("operator_name", operator_name, lang)
    return values


def fill(body: str, values: dict[str, str]) -> str:
    """Substitute placeholders (assumes a validated body; unknown ones show as a dash)."""

    def repl(m: re.Match[str]) -> str:
        tok = m.group(0)
        if tok == "{{":
            return "{"
        if tok == "}}":
            return "}"
        name = m.group(1)
        return values.get(name, MISSING) if name is not None else tok

    return _TOKEN.sub(repl, _CURRENCY_AFTER_MONEY.sub(r"\1", body))
