"""Structured personal identifiers in free text: phones, emails, passports, SNILS, INN, bank cards, addresses.

Each finder returns ``(start, end, kind)`` triples over the original text. Identifiers that carry a check
digit (SNILS, INN, bank cards with Luhn) are accepted only when the check digit is right, so an order
number or an amount is not taken for a document. Everything here is plain ``re``: no network, no model.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from anonymizer.pii_accounts import find_accounts
from anonymizer.pii_dates import find_birth_dates

Found = tuple[int, int, str]

# --------------------------------------------------------------------------- checksums


def luhn_ok(digits: str) -> bool:
    """Bank card check digit (ISO/IEC 7812 Luhn), used by Visa, Mastercard, Mir (2200–2204), etc."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def snils_ok(digits: str) -> bool:
    """SNILS check number (Pension Fund rules): weighted sum of the 9 digits mod 101, 100 → 00."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    body, check = digits[:9], int(digits[9:])
    if int(body) <= 1001998:  # numbers up to 001-001-998 carry no checksum and are not issued any more
        return False
    s = sum(int(d) * (9 - i) for i, d in enumerate(body))
    if s < 100:
        expected = s
    elif s in (100, 101):
        expected = 0
    else:
        expected = s % 101
        if expected == 100:
            expected = 0
    return expected == check


_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def inn_ok(digits: str) -> bool:
    """INN check digits (Federal Tax Service): 10 digits (organisations) or 12 (individuals)."""
    if not digits.isdigit():
        return False
    n = [int(c) for c in digits]
    if len(n) == 10:
        return sum(a * b for a, b in zip(_INN10, n, strict=False)) % 11 % 10 == n[9]
    if len(n) == 12:
        c11 = sum(a * b for a, b in zip(_INN11, n, strict=False)) % 11 % 10
        c12 = sum(a * b for a, b in zip(_INN12, n, strict=False)) % 11 % 10
        return c11 == n[10] and c12 == n[11]
    return False


# --------------------------------------------------------------------------- patterns

EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-zА-Яа-я]{2,24}(?![\w-])")

# a card: 13–19 digits, plain or in groups of 4 (Amex 4-6-5), separated by one space or dash
CARD_RE = re.compile(
    r"(?<![\d\w])(?:\d{4}(?:[ \-]\d{4}){2,3}(?:[ \-]\d{1,3})?|\d{4}[ \-]\d{6}[ \-]\d{5}|\d{13,19})(?![\d\w])"
)
SNILS_RE = re.compile(r"(?<![\d\w])\d{3}[- ]?\d{3}[- ]?\d{3}[- ]?\d{2}(?![\d\w])")
INN_RE = re.compile(r"(?<![\d\w])(?:\d{12}|\d{10})(?![\d\w])")
# passport of a Russian citizen: series (2+2 digits) and a 6-digit number
PASSPORT_RE = re.compile(r"(?<![\d\w])\d{2} ?\d{2}(?: ?№ ?| )\d{6}(?![\d\w])")
PASSPORT_CTX_RE = re.compile(
    r"(?:паспорт\w*|passport|серия|серии|сер\.)\s*(?::|№|no\.?)?\s*(\d{2}\s?\d{2})\s*"
    r"(?:(?:№|номер|ном\.|no\.?|number|,)\s*)?(\d{6})(?!\d)",
    re.IGNORECASE,
)
_SEP = r"[\s\-\.]{0,2}"
PHONE_RE = re.compile(
    r"(?<![\w+])(?:"
    # +7 / 8 / 7 prefix, then 10 digits with any of the usual separators and brackets
    rf"(?:\+\s?7|8|7){_SEP}\(?\d{{3,5}}\)?{_SEP}(?:\d{_SEP}){{4,6}}\d"
    # mobile without prefix: (916) 123-45-67, 916 123 45 67, 9161234567
    rf"|\(?9\d{{2}}\)?{_SEP}\d{{3}}{_SEP}\d{{2}}{_SEP}\d{{2}}"
    # other countries: +44 20 7946 0958
    r"|\+(?:[1-689]\d{0,2})[\s\-]?(?:\(?\d{1,4}\)?[\s\-]?){2,5}\d{2,4}"
    # North American: (858) 751-7812, 858-751-7812
    r"|\(\d{3}\)\s?\d{3}-\d{4}|\d{3}-\d{3}-\d{4}(?:x\d{1,5})?"
    # a bracketed code without prefix: (812) 299-35-07, (8452) 12-34-56
    r"|\(\d{3,5}\)\s?\d{1,3}-?\d{2}-\d{2}"
    # a city number with dashes: 123-45-67
    r"|\d{3}-\d{2}-\d{2}"
    r")(?![\w])"
)

_RU_STREET = (
    r"ул\.?|улица|улице|улицы|пр-т|пр-кт|просп\.?|проспект\w*|пр\.|пер\.?|переул\w*|ш\.|шоссе|"
    r"бул\.?|бульвар\w*|б-р|наб\.?|набережн\w*|пл\.|площад\w*|проезд\w*|пр-д|туп\.?|тупик\w*|"
    r"алл\.|аллея|аллее|линия|мкр\.?|микрорайон\w*|кв-л|квартал\w*|тракт"
)
_RU_WORD = r"[А-ЯЁA-Zа-яё0-9][А-ЯЁа-яёA-Za-z0-9\-]*"
_RU_NAMEWORD = r"[А-ЯЁA-Zа-яё][А-ЯЁа-яёA-Za-z0-9\-]*"
# a city or a region written before the street without "г.": "Новосибирск, " / "Московская обл., "
_RU_PLACE_PREFIX = (
    r"(?:[А-ЯЁ][а-яё]+(?:ая|ий|ой)\s(?:обл\.|область|край|р-н|район),?\s*)?"
    r"(?:[А-ЯЁ][а-яё]+(?:-[А-ЯЁа-яё][а-яё]+)?,\s*(?=(?:г\.|ул|пр|пер|ш\.|б-р|наб|пл|мкр|[А-ЯЁ])))?"
)
_HOUSE = (
    r"(?:,?\s*(?:д\.|дом|д)\s*\d+[а-яА-Я]?(?:/\d+)?"
    r"|,\s*\d+[а-яА-Я]?(?:/\d+)?(?:\s*[-–]\s*\d+)?(?=[\s,.;)]|$)"
    r"|,?\s*(?:к\.|корп\.?|корпус|стр\.?|строение|кв\.?|квартира|оф\.?|офис|под\.|подъезд)\s*\d+[а-яА-Я]?(?:/\d+)?"
    r"|\s+\d+[а-яА-Я]?(?:/\d+)?(?:\s*[-–]\s*\d+)?(?=[\s,.;)]|$))"
)
_RU_SETTLEMENT = (
    r"(?:\b(?:г\.|город|пос\.|п\.|пгт\.?|с\.|село|д\.|дер\.|ст\.|ст-ца|станица|клх|к\.)\s*"
    + _RU_WORD
    + r"(?:[ \-]"
    + _RU_WORD
    + r")?(?:\s*\([^)\n]{1,24}\))?,?\s*)?"
)
_RU_TAIL = r"(?:" + _HOUSE + r")*(?:,?\s*\d{6}(?!\d))?"
# "г. Москва, ул. Ленина, д. 5, кв. 12, 123456": settlement, street keyword first, houses, postcode
RU_ADDRESS_RE = re.compile(
    _RU_PLACE_PREFIX
    + _RU_SETTLEMENT
    + r"\b(?:"
    + _RU_STREET
    # a keyword glued to a word is no keyword ("Перевод", "Период"): a dot or a space must follow
    + r")(?:(?<=\.)\s*|\s+)"
    + _RU_WORD
    + r"(?:\s(?!(?:д|дом|кв|к|стр)\b)"
    + _RU_NAMEWORD
    + r"){0,2}"
    + _RU_TAIL,
    re.IGNORECASE,
)
# "Тверская улица, 7" / "Ленинский проспект 12-40": the street word after the name
RU_ADDRESS_POST_RE = re.compile(
    _RU_PLACE_PREFIX
    + _RU_SETTLEMENT
    + r"\b(?!(?:на|в|во|по|у|с|со|и|к|от|до|за|из)\s)"
    + _RU_WORD
    + r"\s(?:улица|проспект|переулок|шоссе|бульвар|набережная|проезд|"
    r"ул\.|пр-т|пр-кт|просп\.|пер\.|ш\.|б-р|бул\.|наб\.|пр-д|пл\.)" + _RU_TAIL,
    re.IGNORECASE,
)
# a bare house-and-flat: "д. 5, кв. 12" / "дом 7 кв 3"
RU_HOUSE_RE = re.compile(
    r"\b(?:д\.|дом)\s*\d+[а-я]?(?:/\d+)?(?:,?\s*(?:к\.|корп\.?|стр\.?)\s*\d+)?,?\s*(?:кв\.?|квартира)\s*\d+",
    re.IGNORECASE,
)

_EN_SUFFIX = (
    "Alley|Aly|Avenue|Ave|Av|Boulevard|Blvd|Bypass|Byp|Causeway|Circle|Cir|Close|Court|Ct|Cove|Crescent|Cres|"
    "Crossing|Drive|Dr|Expressway|Expy|Extension|Ext|Freeway|Fwy|Gardens|Gdns|Grove|Heights|Highway|Hwy|"
    "Lane|Ln|Loop|Mall|Parkway|Pkwy|Pike|Place|Pl|Plaza|Plz|Road|Rd|Route|Row|Square|Sq|Street|St|Str|"
    "Terrace|Ter|Trail|Trl|Turnpike|Way|Walk|Wharf|Mews|Embankment|"
    # the rest of the USPS street suffix list (the ones that are not everyday words alone)
    "Branch|Bridge|Brook|Brooks|Burg|Burgs|Camp|Canyon|Cape|Center|Centers|Circles|Cliff|Cliffs|Club|"
    "Common|Commons|Corner|Corners|Course|Courts|Coves|Creek|Crest|Curve|Dale|Dam|Divide|Drives|Estate|"
    "Estates|Falls|Ferry|Field|Fields|Flat|Flats|Ford|Fords|Forest|Forge|Forges|Fork|Forks|Fort|Garden|"
    "Gateway|Glen|Glens|Green|Greens|Groves|Harbor|Harbors|Haven|Hill|Hills|Hollow|Inlet|Island|Islands|"
    "Isle|Junction|Junctions|Key|Keys|Knoll|Knolls|Lake|Lakes|Land|Landing|Light|Lights|Lock|Locks|Lodge|"
    "Manor|Manors|Meadow|Meadows|Mill|Mills|Mission|Motorway|Mount|Mountain|Mountains|Neck|Orchard|Oval|"
    "Overpass|Park|Parks|Parkways|Pass|Passage|Path|Pine|Pines|Plain|Plains|Point|Points|Port|Ports|"
    "Prairie|Radial|Ramp|Ranch|Rapid|Rapids|Rest|Ridge|Ridges|River|Roads|Run|Shoal|Shoals|Shore|Shores|"
    "Skyway|Spring|Springs|Spur|Spurs|Squares|Station|Stravenue|Stream|Streets|Summit|Throughway|Trace|"
    "Track|Trafficway|Tunnel|Underpass|Union|Unions|Valley|Valleys|Via|Viaduct|View|Views|Village|"
    "Villages|Ville|Vista|Walks|Wall|Ways|Well|Wells|Crossroad|Crossroads|Extensions|Fall|Loaf|Rue"
)
EN_ADDRESS_RE = re.compile(
    r"(?<![\w$€£.,])\d{1,6}\s+(?:[A-Z][A-Za-z'\-]*\s+){1,3}(?:" + _EN_SUFFIX + r")\.?(?![\w])"
    r"(?:,?\s*(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|#)\s*#?\w+)?"
    r"(?:,?\s*\n?\s*[A-Z][A-Za-z]+(?:\s[A-Z][A-Za-z]+)?,\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?)?"
)

# a Russian address in Latin letters: "Mira Ave 10-25", "Tverskaya St 7, apt 15", "ul. Lenina 12-4"
_LAT_STREET = (
    r"(?:St|Str|Street|Ave|Avenue|Prospekt|Pr|Blvd|Lane|Ln|Rd|Road|Sq|Square|Hwy|Highway|Embankment)"
)
_LAT_HOUSE = r",?\s+\d+[a-z]?(?:\s*[-/]\s*\d+)?(?:,?\s*(?:apt|Apt|flat|Flat|kv|app)\.?\s*\d+)?(?![\w])"
LAT_RU_ADDRESS_RE = re.compile(
    r"(?:\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)?\s" + _LAT_STREET + r"\.?"
    r"|\b(?:ul|pr|per|pl|prosp|nab|sh|bul|ulitsa|prospekt|pereulok)\.?\s[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)"
    + _LAT_HOUSE
)

# US military mail: "PSC 9123, Box 1227, APO AA 71741" / "USNS Miller, FPO AP 12345"
EN_MILITARY_RE = re.compile(
    r"\b(?:PSC\s\d{3,5},\s*Box\s\d{3,5}|Unit\s\d{3,5}\s*Box\s\d{3,5}|US(?:S|NS|NV|CGC)\s[A-Z][a-z]+),?\s*"
    r"(?:APO|FPO|DPO)\s[A-Z]{2}\s\d{5}\b"
)


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def find_emails(text: str) -> Iterator[Found]:
    for m in EMAIL_RE.finditer(text):
        yield m.start(), m.end(), "EMAIL"


def find_cards(text: str) -> Iterator[Found]:
    for m in CARD_RE.finditer(text):
        d = _digits(m.group())
        if 13 <= len(d) <= 19 and len(set(d)) > 2 and luhn_ok(d):
            yield m.start(), m.end(), "CARD"


def find_snils(text: str) -> Iterator[Found]:
    for m in SNILS_RE.finditer(text):
        d = _digits(m.group())
        raw = m.group()
        if not snils_ok(d):
            continue
        # a plain 11-digit run starting 79/89 is a mobile phone first
        if raw.isdigit() and d[:2] in ("79", "89", "74", "84", "78", "88"):
            continue
        yield m.start(), m.end(), "SNILS"


def find_inn(text: str) -> Iterator[Found]:
    for m in INN_RE.finditer(text):
        d = m.group()
        if len(d) == 10 and d[0] == "9":
            continue  # a mobile number without prefix reads the same
        if inn_ok(d):
            yield m.start(), m.end(), "INN"


def find_passports_in_context(text: str) -> Iterator[Found]:
    """Ten digits right after "паспорт" / "серия" / "passport" are a passport, whatever else they fit."""
    for m in PASSPORT_CTX_RE.finditer(text):
        yield m.start(1), m.end(2), "PASSPORT"


def find_passports(text: str) -> Iterator[Found]:
    for m in PASSPORT_RE.finditer(text):
        yield m.start(), m.end(), "PASSPORT"


def find_phones(text: str) -> Iterator[Found]:
    for m in PHONE_RE.finditer(text):
        raw = m.group()
        n = len(_digits(raw))
        if (n == 7 and raw.count("-") == 2) or 10 <= n <= 15:
            yield m.start(), m.end(), "PHONE"


def find_addresses(text: str) -> Iterator[Found]:
    for m in (*RU_ADDRESS_RE.finditer(text), *RU_ADDRESS_POST_RE.finditer(text)):
        s = m.group()
        # a street word alone ("по улице", "площадь покрытия") is no address: it needs a number
        if re.search(r"\d", s):
            yield m.start(), m.end() - (len(s) - len(s.rstrip(" ,"))), "ADDRESS"
    for m in RU_HOUSE_RE.finditer(text):
        yield m.start(), m.end(), "ADDRESS"
    for m in (
        *EN_ADDRESS_RE.finditer(text),
        *EN_MILITARY_RE.finditer(text),
        *LAT_RU_ADDRESS_RE.finditer(text),
    ):
        yield m.start(), m.end(), "ADDRESS"


# checksum-bearing finders first: on overlap the earlier kind wins
STRUCTURED_FINDERS = (
    find_emails,
    find_passports_in_context,
    find_accounts,
    find_birth_dates,
    find_cards,
    find_snils,
    find_inn,
    find_passports,
    find_phones,
    find_addresses,
)
