"""Phone number normalisation with ``phonenumbers``: 8 916…, +7 916…, 7916…, 916… are the same subscriber."""

from __future__ import annotations

import re

import phonenumbers

from billing_adapter.errors import BadNumber

__all__ = ["BadNumber", "normalise_msisdn", "try_normalise"]

_DIGITS = re.compile(r"\D+")


def normalise_msisdn(raw: str, region: str = "RU") -> str:
    """Return E.164 digits without '+', e.g. ``79161234567``; raise BadNumber with a readable reason."""
    text = (raw or "").strip()
    if not text:
        raise BadNumber("empty number")
    if re.search(r"[A-Za-zА-Яа-я]", text):
        raise BadNumber(f"not a phone number: {text[:32]!r}")
    digits = _DIGITS.sub("", text)
    if len(digits) < 10:
        raise BadNumber(f"too short for a phone number: {len(digits)} digits")
    if len(digits) > 15:
        raise BadNumber("too long for a phone number")
    if len(digits) == 11 and digits[0] == "8" and not text.startswith("+"):
        digits = "7" + digits[1:]
    candidate = "+" + digits if len(digits) > 10 or text.startswith("+") else digits
    try:
        num = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException as exc:
        raise BadNumber(f"not a phone number: {exc}") from None
    if not phonenumbers.is_possible_number(num):
        raise BadNumber("not a possible phone number")
    return f"{num.country_code}{num.national_number}"


def try_normalise(raw: str) -> str | None:
    try:
        return normalise_msisdn(raw)
    except BadNumber:
        return None
