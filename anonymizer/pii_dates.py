"""Birth dates in free text, in the notations operators type, told apart from payment and service dates.

Written as ``12.03.1985``, ``21/07/1987``, ``1987-07-21``, ``3 марта 1978``, ``14 февраля 1990 г.``,
``March 3, 1978``, ``12 May 1988``, ``1956 г.р.``, ``1949 года рождения``. A full date whose year lies
between 1900 and ten years ago is a birth date unless the words just before it say it is a payment, a
charge, a contract or a period («оплата 15.03.2005», «договор от 12.03.2005»); a recent date is one only
after a birth word («ДР», «дата рождения», «born», «DOB»). A bare year is one only with «г.р.» /
«года рождения».
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

Found = tuple[int, int, str]

_RU_MONTHS = (
    r"января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря|"
    r"янв\.?|февр?\.?|мар\.?|апр\.?|июн\.?|июл\.?|авг\.?|сент?\.?|окт\.?|нояб?\.?|дек\.?"
)
_EN_MONTHS = (
    r"January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?"
)
_YEAR = r"(?P<y>(?:19|20)\d{2})"
_RU_YEAR_TAIL = r"(?:\s?(?:г\.|года|год|гг\.)(?!\s?р))?"
DATE_RE = re.compile(
    r"(?<![\d\w])(?:"
    rf"(?P<d1>\d{{1,2}})[./-](?P<m1>\d{{1,2}})[./-]{_YEAR}"  # 12.03.1985, 21/07/1987
    r"|(?P<y2>(?:19|20)\d{2})-(?P<m2>\d{1,2})-(?P<d2>\d{1,2})"  # 1987-07-21
    rf"|\d{{1,2}}\s(?:{_RU_MONTHS})\s(?P<y3>(?:19|20)\d{{2}}){_RU_YEAR_TAIL}"  # 3 марта 1978 г.
    rf"|(?:{_EN_MONTHS})\s\d{{1,2}}(?:st|nd|rd|th)?,?\s(?P<y4>(?:19|20)\d{{2}})"  # March 3, 1978
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s(?:{_EN_MONTHS})\s(?P<y5>(?:19|20)\d{{2}})"  # 12 May 1988
    r")(?![\d\w])",
    re.IGNORECASE,
)
# "1956 г.р.", "1956 г. р.", "1956гр", "1949 года рождения", "г.р. 1956"
BIRTH_YEAR_RE = re.compile(
    r"(?<![\d\w])(?:(?:19|20)\d{2}\s?(?:г\.?\s?р\.?|гр\b|года\sрождения|г\.\sрождения)"
    r"|г\.\s?р\.\s?(?:19|20)\d{2}(?!\d))",
    re.IGNORECASE,
)
_BIRTH_CONTEXT = re.compile(
    r"(?:\bд\.\s?р\.?|\bдр\b|рожд\w*|родил\w*|\bborn\b|\bbirth\w*|\bdob\b|\bd\.o\.b\.?)[\s:,.-]*(?:on\s)?$",
    re.IGNORECASE,
)
_NOT_BIRTH_CONTEXT = re.compile(
    r"(?:оплат\w*|плат[её]ж\w*|списан\w*|зачисл\w*|начисл\w*|договор\w*|дог\.|заявк\w*|обращени\w*|сч[её]т\w*|"
    r"подключ\w*|отключ\w*|активир\w*|выдан\w*|\bот|\bс|\bпо|\bдо|\bза|payment|paid|charged?|since|from|"
    r"until|till|of|issued)[\s:№#]*$",
    re.IGNORECASE,
)


def find_birth_dates(text: str, today: date | None = None) -> Iterator[Found]:
    """Spans of birth dates (``BIRTHDATE``) in ``text``."""
    this_year = (today or date.today()).year
    for m in BIRTH_YEAR_RE.finditer(text):
        yield m.start(), m.end(), "BIRTHDATE"
    for m in DATE_RE.finditer(text):
        year = int(
            next(g for g in (m.group("y"), m.group("y2"), m.group("y3"), m.group("y4"), m.group("y5")) if g)
        )
        day_month = (m.group("d1"), m.group("m1")) if m.group("d1") else (m.group("d2"), m.group("m2"))
        european = 1 <= int(day_month[0] or 0) <= 31 and 1 <= int(day_month[1] or 0) <= 12
        american = 1 <= int(day_month[1] or 0) <= 31 and 1 <= int(day_month[0] or 0) <= 12  # 03/12/1985
        if day_month[0] and not european and not american:
            continue
        before = text[max(0, m.start() - 24) : m.start()]
        if _BIRTH_CONTEXT.search(before) or (
            1900 <= year <= this_year - 10 and not _NOT_BIRTH_CONTEXT.search(before)
        ):
            yield m.start(), m.end(), "BIRTHDATE"
