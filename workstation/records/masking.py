"""Masking of personal data in notes before they leave the operator's screen (emerging-topic examples)."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_DIGITS = re.compile(r"\+?\d[\d\s()\-]{3,}\d")

EXAMPLE_CHARS = 240


def _fallback(text: str) -> str:
    return _DIGITS.sub("[NUMBER]", _EMAIL.sub("[EMAIL]", text))


def mask(text: str) -> str:
    """``text`` with names, phone numbers, documents, e-mails… replaced by placeholders.

    Uses the anonymizer's scrubber; the regex fallback (digits, e-mails) is kept for builds without it.
    """
    text = (text or "")[: EXAMPLE_CHARS * 4]
    try:
        from anonymizer.scrubber import scrub
    except ImportError:  # pragma: no cover - the anonymizer ships with the workstation
        masked = _fallback(text)
    else:
        masked = _fallback(scrub(text))
    return masked[:EXAMPLE_CHARS] + ("…" if len(masked) > EXAMPLE_CHARS else "")
