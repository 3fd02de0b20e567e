"""The free-text scrubber: typed placeholders, checksums, any letter case, and the generated test set."""

from __future__ import annotations

import pytest

from anonymizer.pii_eval import evaluate
from anonymizer.pii_patterns import inn_ok, luhn_ok, snils_ok
from anonymizer.scrubber import find_pii, scrub
from tests.support.pii_notes import generate


def test_russian_note_gets_typed_placeholders() -> None:
    text = "Звонил Иванов Иван Петрович, тел. +7 (916) 123-45-67, почта ivan.petrov@mail.ru"
    assert scrub(text) == "Звонил [NAME], тел. [PHONE], почта [EMAIL]"


@pytest.mark.parametrize(
    "phone",
    [
        "+7 (916) 123-45-67",
        "8 916 123 45 67",
        "89161234567",
        "+79161234567",
        "8-916-123-45-67",
        "916 123-45-67",
        "(916) 123-45-67",
        "8 (495) 123-45-67",
        "7 916 1234567",
        "123-45-67",
    ],
)
def test_phone_in_every_russian_notation_is_replaced(phone: str) -> None:
    assert scrub(f"перезвонить на {phone} вечером") == "перезвонить на [PHONE] вечером"


def test_lowercase_and_uppercase_names_are_found() -> None:
    assert scrub("абонентка мария сидорова недовольна") == "абонентка [NAME] недовольна"
    assert scrub("владелец ИВАНОВ ПЁТР СЕРГЕЕВИЧ") == "владелец [NAME]"
    assert scrub("spoke with john smith about roaming") == "spoke with [NAME] about roaming"


def test_everyday_words_that_are_also_names_stay() -> None:
    text = "my bill is too high, will call later. Карта Мир не проходит, вера в лучшее."
    assert find_pii(text) == []


def test_documents_with_valid_check_digits_are_replaced() -> None:
    text = "паспорт 45 10 123456, СНИЛС 112-233-445 95, ИНН 500100732259"
    assert scrub(text) == "паспорт [PASSPORT], СНИЛС [SNILS], ИНН [INN]"


def test_numbers_with_wrong_check_digits_are_not_documents() -> None:
    assert not snils_ok("11223344596")
    assert not inn_ok("500100732258")
    # an order number that fails INN, SNILS and Luhn is left alone
    assert scrub("заказ 1234567890 на 1500 рублей") == "заказ 1234567890 на 1500 рублей"


def test_mir_card_with_luhn_is_replaced_and_a_broken_one_is_not() -> None:
    body = "220012345678901"
    good = next(body + d for d in "0123456789" if luhn_ok(body + d))
    bad = next(body + d for d in "0123456789" if not luhn_ok(body + d))
    spaced = " ".join(good[i : i + 4] for i in range(0, 16, 4))
    assert scrub(f"карта {spaced} отклонена") == "карта [CARD] отклонена"
    assert "[CARD]" not in scrub(f"номер {bad} отклонён")


def test_addresses_russian_and_english() -> None:
    assert scrub("адрес: г. Москва, ул. Ленина, д. 5, кв. 12, 123456. Мастер придёт") == (
        "адрес: [ADDRESS]. Мастер придёт"
    )
    assert scrub("No signal at 742 Evergreen Terrace since Monday") == "No signal at [ADDRESS] since Monday"


def test_span_does_not_carry_the_personal_text() -> None:
    (span,) = find_pii("почта a.b@example.org")
    assert span.kind == "EMAIL"
    assert "example" not in repr(span)


def test_empty_text_is_returned_unchanged() -> None:
    assert scrub("") == ""
    assert find_pii("") == []


def test_generated_notes_meet_recall_and_false_positive_targets() -> None:
    notes, clean = generate(n_with_pii=2000, n_clean=600, seed=11)
    assert len(notes) >= 2000
    assert {n.lang for n in notes} == {"ru", "en"}
    report = evaluate(notes, clean)
    recall = report["recall"]
    for kind in ("PHONE", "EMAIL", "PASSPORT", "SNILS", "INN", "CARD"):
        assert recall[kind] >= 0.99, (kind, recall)
    assert recall["NAME"] >= 0.95
    assert recall["ADDRESS"] >= 0.9
    assert report["false_positive_rate"] <= 0.02


def test_misspelt_words_are_not_taken_for_names() -> None:
    assert find_pii("аобнент гоорит что руминг не работает, просит помось") == []


def test_independent_clean_notes_have_few_false_positives() -> None:
    """The classifier's generated request notes (typos, capitals, countries; no personal data)."""
    from classifier.corpus.generate import generate as classifier_corpus

    texts = [str(r["text"]) for r in classifier_corpus(rows_per_topic=25, oos_rows=100, seed=5)]
    flagged = [t for t in texts if find_pii(t)]
    assert len(flagged) / len(texts) <= 0.02, flagged[:5]
