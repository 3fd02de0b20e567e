"""Each scrubber rule of issue 10, with the operator phrases that must stay untouched as negatives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from anonymizer.pii_accounts import identifier_formats, set_identifier_formats
from anonymizer.pii_dates import find_birth_dates
from anonymizer.scrubber import find_pii, scrub
from billing_adapter.mapping import MappingError, load_mapping


@pytest.fixture
def demo_formats() -> Iterator[None]:
    set_identifier_formats(load_mapping("demo").identifier_formats)
    yield
    set_identifier_formats(None)


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        ("перезвонить Ивановой Марии Петровне", "перезвонить [NAME]"),  # dative
        ("Со слов Петрова Алексея", "Со слов [NAME]"),  # genitive
        ("переоформили на Смирнову Ольгу Викторовну", "переоформили на [NAME]"),  # accusative
        ("разговаривал с Кузнецовым Дмитрием", "разговаривал с [NAME]"),  # instrumental
        ("вопрос о Соколовой Анне Сергеевне", "вопрос о [NAME]"),  # prepositional
        ("звонил Гончаренко Виталий Андреевич", "звонил [NAME]"),  # nominative
        ("клиент ткачук андрей хочет сменить тариф", "клиент [NAME] хочет сменить тариф"),  # lower case
        ("заявление от Захарченко О.В. передано", "заявление от [NAME] передано"),  # initials after
        ("Д.А. Комаров подтвердил смену тарифа", "[NAME] подтвердил смену тарифа"),  # initials before
        ("Ivanov Petr calls about roaming", "[NAME] calls about roaming"),  # Latin letters
        ("owner is Smirnova Olga Viktorovna", "owner is [NAME]"),
        ("Контакт: Zhukova Yulia, просит ответ", "Контакт: [NAME], просит ответ"),
        ("spoke with Tatiana Morozova, SIM replaced", "spoke with [NAME], SIM replaced"),  # soft sign dropped
        ("абонент Bogdanov Ilya пишет латиницей", "абонент [NAME] пишет латиницей"),
    ],
)
def test_names_in_every_case_letter_case_initials_and_latin(note: str, expected: str) -> None:
    assert scrub(note) == expected


@pytest.mark.parametrize(
    "notation", ["12.03.1985", "3 марта 1978", "1956 г.р.", "1987-07-21", "March 3, 1978", "21/07/1987",
                 "1949 года рождения", "14 февраля 1990 г.", "12 May 1988"],
)  # fmt: skip
def test_birth_dates_in_every_common_notation(notation: str) -> None:
    assert (
        scrub(f"абонент, дата рождения {notation}, подтвердил")
        == "абонент, дата рождения [BIRTHDATE], подтвердил"
    )
    assert scrub(f"ДР {notation}") == "ДР [BIRTHDATE]"


def test_a_recent_date_is_a_birth_date_only_after_a_birth_word() -> None:
    today = date(2026, 6, 1)
    assert list(find_birth_dates("оплата 15.03.2026 прошла", today)) == []
    assert list(find_birth_dates("договор от 12.03.2005", today)) == []
    assert [k for *_, k in find_birth_dates("ребёнок, д.р. 01.02.2019", today)] == ["BIRTHDATE"]


def test_account_and_contract_numbers_take_their_formats_from_the_billing_mapping(demo_formats: None) -> None:
    assert identifier_formats() is not None
    assert (
        scrub("абонент продиктовал 1000480077 вместо номера") == "абонент продиктовал [ACCOUNT] вместо номера"
    )
    assert scrub("оформлено по D-2019-0031742") == "оформлено по [ACCOUNT]"


def test_account_numbers_in_context_whatever_the_billing() -> None:
    assert identifier_formats() is None
    assert scrub("л/с 7700-12345, баланс 45 руб") == "л/с [ACCOUNT], баланс 45 руб"
    assert scrub("Договор № ТК-000456 переоформлен") == "Договор № [ACCOUNT] переоформлен"
    assert scrub("account no. 55012345 is blocked") == "account no. [ACCOUNT] is blocked"
    assert (
        scrub("Объяснил, где найти номер договора в приложении")
        == "Объяснил, где найти номер договора в приложении"
    )


def test_a_bad_identifier_format_stops_the_mapping_with_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (load_mapping("demo").path.read_text("utf-8")).replace(
        "account: '10\\d{8}'", "account: '(10\\d{8}'"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, "utf-8")
    with pytest.raises(MappingError, match="identifier_formats 'account' is not a valid pattern"):
        load_mapping(bad)


@pytest.mark.parametrize(
    "address",
    ["ул. Садовая, 22-41", "Тверская ул., 7-15", "Mira Ave 10-25", "ul. Lenina 12-4", "Зелёный бульвар, 8-33",
     "Новосибирск, Красный проспект, 82, кв. 9", "Московская обл., г. Химки, ул. Молодёжная, д. 4, кв. 56",
     "ул. Гагарина 5/2 кв 14"],
)  # fmt: skip
def test_addresses_with_the_street_type_before_or_after(address: str) -> None:
    assert scrub(f"доставка на {address}") == "доставка на [ADDRESS]"


@pytest.mark.parametrize(
    "phrase",
    [
        "Перевод 500 руб",
        "Период 3 месяца",
        "Перезвонить в 17",
        "на Ленина нет покрытия",
        "Вышка на Гагарина на профилактике до 18:00",
        "No coverage on Lenina street, escalated",
        "Тариф Безлимит 990 руб/мес",
        "Смарт Плюс за 750 рублей в месяц",
        "Тариф Smart Plus за 750 р.",
        "скорость 100 Мбит/с по тарифу, фактически 15 Мбит/с",
        "Скорость упала до 2 Мб/с после 20 ГБ",
        "Оплата 15.03.2026 не зачислена",
        "Платёж от 02.04.2026 на 650 руб прошёл",
        "Абонент платит до 25 числа каждого месяца",
        "Заявка № 48213 передана во вторую линию",
        "Счёт за апрель 1 034,50 руб",
        "Ticket 48213 escalated to the second line",
    ],
)
def test_ordinary_operator_phrases_stay_untouched(phrase: str) -> None:
    assert find_pii(phrase) == [], scrub(phrase)


def test_the_independent_sets_have_every_kind_and_clean_notes() -> None:
    from pathlib import Path

    from anonymizer.pii_eval import load_marked

    data = Path(__file__).resolve().parents[2] / "benchmarks" / "data"
    for name in ("pii_notes.txt", "pii_notes_heldout.txt", "pii_notes_blind.txt"):
        notes, clean = load_marked(data / name)
        kinds = {k for n in notes for *_, k in n.pii}
        assert kinds == {"NAME", "PHONE", "EMAIL", "PASSPORT", "SNILS", "INN", "CARD", "ADDRESS", "ACCOUNT",
                         "BIRTHDATE"}  # fmt: skip
        assert len(clean) > 50
        assert len(notes) > 45
