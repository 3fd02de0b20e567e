"""Account (лицевой счёт) and contract numbers in free text.

Two rules:

* the billing's own formats: the billing mapping declares how its account and contract numbers look
  (``identifier_formats`` in the mapping file, regular expressions), and the workstation registers them
  here at start (``set_identifier_formats``), so a new billing brings its own; a token of that shape is
  an ``ACCOUNT`` wherever it stands;
* context, whatever the billing: a number right after «л/с», «лицевой счёт», «счёт №», «договор №»,
  «account», «contract»… is one too.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping

Found = tuple[int, int, str]

_lock = threading.Lock()
_formats: re.Pattern[str] | None = None

CONTEXT_RE = re.compile(
    r"(?:\bл\s?/\s?с|\bлс\b|лицев\w*(?:\s+сч[её]т\w*)?|номер\w*\s+сч[её]т\w*|сч[её]т\w*\s*(?:№|#|n\b)|"
    r"\bдог(?:овор\w*|\.)?|\baccount(?:\s+(?:no\.?|number))?|\bacct\.?|\ba/c|\bcontract(?:\s+(?:no\.?|number))?)"
    r"\s*(?:№|#|no\.?|n\b|номер|:)?\s*(?:№\s*)?"
    r"(?P<id>[A-ZА-Я]{0,4}[-/]?\d[\dA-ZА-Я/-]{3,}\d)(?![\w-])",
    re.IGNORECASE,
)


def set_identifier_formats(formats: Mapping[str, str | Iterable[str]] | None) -> None:
    """Register the billing's account / contract number formats (regular expressions, whole tokens)."""
    global _formats
    patterns: list[str] = []
    for value in (formats or {}).values():
        patterns.extend([value] if isinstance(value, str) else list(value))
    for p in patterns:
        re.compile(p)  # a bad pattern stops here, with re's message
    with _lock:
        _formats = (
            re.compile(r"(?<![\w-])(?:" + "|".join(f"(?:{p})" for p in patterns) + r")(?![\w-])")
            if patterns
            else None
        )


def identifier_formats() -> str | None:
    """The registered formats as one pattern (None: only the context rule applies)."""
    return _formats.pattern if _formats is not None else None


def find_accounts(text: str) -> Iterator[Found]:
    fmt = _formats
    if fmt is not None:
        for m in fmt.finditer(text):
            yield m.start(), m.end(), "ACCOUNT"
    for m in CONTEXT_RE.finditer(text):
        yield m.start("id"), m.end("id"), "ACCOUNT"
