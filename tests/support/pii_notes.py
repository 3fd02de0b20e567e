"""A generated set of operator notes in Russian and English with known personal data, to measure the
scrubber: recall per kind of identifier and the false-positive rate on notes that carry none.

Deterministic for a seed. Values come from Faker (ru_RU, en_US) and from renderers below that write each
identifier in the notations people actually type (phones with and without +7/8, brackets, dashes…).
"""

from __future__ import annotations

import random
from typing import Any

from anonymizer.pii_eval import Note
from anonymizer.pii_patterns import inn_ok, luhn_ok, snils_ok

RU_TEMPLATES = [
    "Звонил(а) {NAME}, просит перезвонить на {PHONE}.",
    "Абонент {NAME} жалуется на списания за подписки, номер для связи {PHONE}",
    "клиент {NAME} просит выслать детализацию на {EMAIL}",
    "Переоформление договора: паспорт {PASSPORT}, абонент {NAME}.",
    "Для подтверждения личности назвал СНИЛС {SNILS}. Вопрос по тарифу.",
    "ИНН {INN}, юрлицо просит счёт за март.",
    "Оплата не прошла с карты {CARD}, просит вернуть 500 руб.",
    "Нет связи дома, адрес: {ADDRESS}. Передано в техподдержку.",
    "{NAME} сообщил, что не работает интернет по адресу {ADDRESS}",
    "Со слов абонента, его зовут {NAME}, второй номер {PHONE}, почта {EMAIL}",
    "Подключили услугу, перезвонить {NAME} завтра после 18:00 на {PHONE}",
    "Доставка сим-карты на {ADDRESS}, получатель {NAME}",
    "Возврат средств на карту {CARD}, владелец {NAME}",
    "паспорт {PASSPORT}, ИНН {INN}, СНИЛС {SNILS}",
    "абонент просил связаться по номеру {PHONE} или написать на {EMAIL}",
]
EN_TEMPLATES = [
    "Caller {NAME} asked for a callback on {PHONE}.",
    "Customer {NAME} disputes roaming charges, email {EMAIL}",
    "Please send the invoice to {EMAIL}; contact person {NAME}",
    "Card {CARD} was declined, refund requested by {NAME}.",
    "SIM delivery to {ADDRESS}, recipient {NAME}",
    "No signal at {ADDRESS} since Monday, ticket escalated.",
    "spoke with {NAME}, will call back on {PHONE} tomorrow",
    "Identity confirmed with passport {PASSPORT} and INN {INN}",
    "{NAME} says the data bundle ran out after 3 days",
]
RU_CLEAN = [
    "Абонент жалуется на медленный интернет вечером, проверили настройки APN.",
    "Просит отключить платные подписки, списано {n} руб. за {m} дней.",
    "Вопрос по тарифу Безлимит {n}: сколько ГБ остается в конце месяца.",
    "Не проходит оплата картой Мир через приложение, ошибка {n}.",
    "Подключен роуминг в Турции, пакет {m} ГБ, стоимость {n} руб.",
    "Заявка №{k} передана во второй линию поддержки, срок {m} дней.",
    "Клиент доволен, вопрос решен на первой линии.",
    "Баланс отрицательный {m} дней, объяснили порядок начислений.",
    "Сломался роутер, рекомендована замена по гарантии.",
    "Просит перенести остаток минут на следующий месяц, отказано по условиям тарифа.",
    "Плохая связь в метро на кольцевой линии, собрали данные по базовым станциям.",
    "Звонок прервался, абонент перезвонит позже.",
    "Интересуется акцией для новых абонентов и скидкой {m}%.",
    "Вопрос по счету за {mon}: начисления {n} руб., все верно.",
    "В Москве и Санкт-Петербурге работает 5G, в регионах пока нет.",
    "Заблокирована сим-карта после трех неверных вводов PIN, выдан PUK.",
    "Надежда на быструю починку, ждет мастера с {h}:00 до {h2}:00.",
    "Клиент спросил про домашний интернет и ТВ, оформлена заявка {k}.",
]
EN_CLEAN = [
    "Customer complains about slow mobile data in the evening, APN reset done.",
    "Asked to cancel paid subscriptions, {n} roubles charged over {m} days.",
    "Roaming pack of {m} GB activated for a trip, price {n}.",
    "Card payment failed in the app with error {n}, advised to retry.",
    "Ticket {k} escalated to second line, resolution expected in {m} days.",
    "Will check the bill for {mon} and call back if anything is wrong.",
    "Mark as resolved: the router was restarted and the signal is back.",
    "May I have more data this month? Offered the {m} GB add-on.",
    "Balance negative for {m} days, explained how the credit limit works.",
    "Dropped calls on the highway between 5 and 6 pm, coverage report filed.",
]
MONTHS_RU = ["январь", "февраль", "март", "апрель", "май", "июнь"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June"]


def _case(rng: random.Random, s: str) -> str:
    r = rng.random()
    if r < 0.2:
        return s.lower()
    if r < 0.27:
        return s.upper()
    return s


def _phone(rng: random.Random) -> str:
    code = rng.choice(["9", "9", "9", "4", "8"]) + f"{rng.randint(0, 99):02d}"
    if code[0] == "4":
        code = rng.choice(["495", "499", "812", "343"])
    a, b, c = f"{rng.randint(0, 999):03d}", f"{rng.randint(0, 99):02d}", f"{rng.randint(0, 99):02d}"
    forms = [
        f"+7 ({code}) {a}-{b}-{c}",
        f"8 {code} {a} {b} {c}",
        f"8{code}{a}{b}{c}",
        f"+7{code}{a}{b}{c}",
        f"8-{code}-{a}-{b}-{c}",
        f"+7 {code} {a}{b}{c}",
        f"8 ({code}) {a}-{b}-{c}",
        f"+7-{code}-{a}-{b}-{c}",
        f"7{code}{a}{b}{c}",
        f"({code}) {a}-{b}-{c}",
        f"{a}-{b}-{c}",
    ]
    if code[0] == "9":
        forms += [f"{code} {a}-{b}-{c}", f"{code}{a}{b}{c}", f"+7 {code} {a} {b}{c}"]
    return rng.choice(forms)


def _card(rng: random.Random) -> str:
    prefix = rng.choice(["2200", "2201", "2202", "2203", "2204", "4", "51", "53", "55", "2221"])
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(15 - len(prefix)))
    for d in "0123456789":
        if luhn_ok(body + d):
            num = body + d
            break
    if rng.random() < 0.5:
        return " ".join(num[i : i + 4] for i in range(0, 16, 4))
    return num


def _passport(rng: random.Random) -> str:
    s, n = f"{rng.randint(1, 99):02d}{rng.randint(0, 25):02d}", f"{rng.randint(100000, 999999)}"
    return rng.choice([f"{s} {n}", f"{s[:2]} {s[2:]} {n}", f"{s} №{n}", f"{s}{n}"])


def _snils(rng: random.Random) -> str:
    while True:
        body = f"{rng.randint(2_000_000, 999_999_999):09d}"
        s = sum(int(d) * (9 - i) for i, d in enumerate(body))
        check = s if s < 100 else 0 if s in (100, 101) else (s % 101) % 100
        digits = f"{body}{check:02d}"
        if snils_ok(digits):
            break
    if rng.random() < 0.6:
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"
    return digits


def _inn(rng: random.Random, faker_ru: Any) -> str:
    value = faker_ru.individuals_inn() if rng.random() < 0.6 else faker_ru.businesses_inn()
    assert inn_ok(value), value
    return str(value)


def _name(rng: random.Random, faker: Any, lang: str) -> str:
    if lang == "ru":
        female = rng.random() < 0.5
        last = faker.last_name_female() if female else faker.last_name_male()
        first = faker.first_name_female() if female else faker.first_name_male()
        middle = faker.middle_name_female() if female else faker.middle_name_male()
        form = rng.choice(
            [f"{last} {first} {middle}", f"{first} {last}", f"{first} {middle}", f"{last} {first}"]
        )
    else:
        form = rng.choice([f"{faker.first_name()} {faker.last_name()}", faker.name()])
    return _case(rng, form)


def _address(rng: random.Random, faker: Any, lang: str) -> str:
    if lang == "ru":
        return faker.address() if rng.random() < 0.5 else faker.street_address()
    value = faker.street_address() if rng.random() < 0.5 else faker.address()
    return value.replace("\n", ", ")


def _value(kind: str, rng: random.Random, faker: Any, faker_ru: Any, lang: str) -> str:
    if kind == "NAME":
        return _name(rng, faker, lang)
    if kind == "PHONE":
        return _phone(rng)
    if kind == "EMAIL":
        return str(faker.email())
    if kind == "PASSPORT":
        return _passport(rng)
    if kind == "SNILS":
        return _snils(rng)
    if kind == "INN":
        return _inn(rng, faker_ru)
    if kind == "CARD":
        return _card(rng)
    return _address(rng, faker, lang)


def generate(n_with_pii: int = 2000, n_clean: int = 1000, seed: int = 7) -> tuple[list[Note], list[Note]]:
    """Notes with personal data (spans known) and notes without any. Two thirds Russian."""
    from faker import Faker

    rng = random.Random(seed)
    fakers = {"ru": Faker("ru_RU"), "en": Faker("en_US")}
    for i, f in enumerate(fakers.values()):
        f.seed_instance(seed + i)
    notes: list[Note] = []
    for i in range(n_with_pii):
        lang = "ru" if i % 3 else "en"
        faker = fakers[lang]
        template = rng.choice(RU_TEMPLATES if lang == "ru" else EN_TEMPLATES)
        note = Note(text="", lang=lang)
        pos = 0
        out: list[str] = []
        while True:
            j = template.find("{", pos)
            if j < 0:
                out.append(template[pos:])
                break
            k = template.index("}", j)
            out.append(template[pos:j])
            kind = template[j + 1 : k]
            value = _value(kind, rng, faker, fakers["ru"], lang)
            start = sum(len(p) for p in out)
            out.append(value)
            note.pii.append((start, start + len(value), kind))
            pos = k + 1
        note.text = "".join(out)
        notes.append(note)
    clean: list[Note] = []
    for i in range(n_clean):
        lang = "ru" if i % 3 else "en"
        template = rng.choice(RU_CLEAN if lang == "ru" else EN_CLEAN)
        h = rng.randint(8, 18)
        text = template.format(
            n=rng.choice([rng.randint(10, 2000), rng.randint(100, 999) * 10]),
            m=rng.randint(2, 30),
            k=rng.randint(10000, 99999999),
            mon=rng.choice(MONTHS_RU if lang == "ru" else MONTHS_EN),
            h=h,
            h2=h + 2,
        )
        clean.append(Note(text=text, lang=lang))
    return notes, clean
