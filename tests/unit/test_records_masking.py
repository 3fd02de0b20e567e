"""Notes leaving the operator's screen (emerging-topic examples) have personal data masked."""

from __future__ import annotations

from workstation.records.masking import EXAMPLE_CHARS, _fallback, mask


def test_phone_numbers_emails_names_and_passports_are_masked() -> None:
    note = "Иванов Пётр Сергеевич, тел. +7 916 123-45-67, почта petr@mail.ru, паспорт 4510 123456: нет сети"
    out = mask(note)
    for secret in ("Иванов", "916", "123-45-67", "petr@mail.ru", "4510", "123456"):
        assert secret not in out, secret
    assert out.endswith("нет сети")


def test_fallback_masks_digit_runs_and_emails_without_the_anonymizer() -> None:
    assert _fallback("звонить 8-916-123-45-67 или a.b@c.ru") == "звонить [NUMBER] или [EMAIL]"
    assert _fallback("тариф за 300 р") == "тариф за 300 р"  # short numbers are not personal data


def test_long_notes_are_cut_for_display() -> None:
    out = mask("не работает есим " * 200)
    assert len(out) == EXAMPLE_CHARS + 1
    assert out.endswith("…")
    assert mask("") == ""
