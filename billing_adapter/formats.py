"""Numbers as people read them: phone numbers with ``phonenumbers``, money with Babel (CLDR).

The browser formats money with ``Intl.NumberFormat`` from the same CLDR data, so a balance reads the same on
the card and in a call script: ``-458,64 ₽`` in Russian, ``-RUB 458.64`` in English.
"""

from __future__ import annotations

import functools
import re
from datetime import date

import phonenumbers
from babel.dates import format_date
from babel.numbers import format_currency

LOCALES = {"ru": "ru_RU", "en": "en_GB"}
_DIGITS = re.compile(r"\D+")


@functools.lru_cache(maxsize=65536)  # on every pop (three numbers a card): a floor's callers of a day fit
def display_number(raw: str | None, region: str = "RU") -> str:
    """The number in the international format of ``phonenumbers``: ``79010167996`` → ``+7 901 016-79-96``.

    Anything that is not a valid phone number (withheld, ``anonymous``, an internal extension) is returned as
    it came, so the screen never loses what telephony or billing said.
    """
    text = (raw or "").strip()
    digits = _DIGITS.sub("", text)
    if not text or re.search(r"[A-Za-zА-Яа-я]", text) or not 10 <= len(digits) <= 15:
        return text
    if len(digits) == 11 and digits[0] == "8" and not text.startswith("+"):
        digits = "7" + digits[1:]
    try:
        num = phonenumbers.parse("+" + digits if len(digits) > 10 else digits, region)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_valid_number(num):
        return text
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def money(value: float | None, lang: str = "ru", currency: str = "RUB") -> str:
    """An amount in the page's language: ``-458,64 ₽`` (ru), ``-RUB 458.64`` (en)."""
    if value is None:
        return "—"
    text = format_currency(value, currency, locale=LOCALES.get(lang, "ru_RU"))
    # CLDR's currency spacing (which Intl applies and Babel does not): a letter symbol touching a digit
    # gets a no-break space, "RUB458.64" → "RUB 458.64"
    return re.sub(r"([A-Za-z])(\d)", "\\1\u00a0\\2", text)


def short_date(value: date, lang: str = "ru") -> str:
    """A date as the browser writes it for the language: 15.01.2020 (ru), 15/01/2020 (en)."""
    return format_date(
        value, format="short" if lang == "en" else "dd.MM.y", locale=LOCALES.get(lang, "ru_RU")
    )
