"""Search-box text is classified into bound parameters; month windows for ARPU and charges."""

from __future__ import annotations

from datetime import date

from billing_adapter.lookup import month_range, name_patterns, search_plan


def test_arpu_window_is_the_three_full_months_before_this_one() -> None:
    assert month_range(date(2026, 2, 15), 3, full_only=True) == ("2025-11", "2026-01")


def test_charges_window_includes_the_open_month() -> None:
    assert month_range(date(2026, 1, 3), 6, full_only=False) == ("2025-07", "2026-01")


def test_phone_in_any_format_searches_by_normalised_number_and_account() -> None:
    plan = dict(search_plan("8 (916) 123-45-67"))
    assert plan["subscriber_by_msisdn"] == {"msisdn": "79161234567"}
    assert plan["subscriber_by_account"] == {"account": "89161234567"}


def test_name_is_capitalised_into_prefix_patterns() -> None:
    assert name_patterns("иванов иван") == {"last_name": "Иванов%", "first_name": "Иван%"}
    assert name_patterns("Петрова") == {"last_name": "Петрова%", "first_name": "%"}


def test_injection_attempt_never_becomes_sql_and_matches_no_name() -> None:
    text = "x' OR '1'='1'; DROP TABLE subscribers; --"
    plan = search_plan(text)
    assert all(name != "subscriber_by_name" for name, _ in plan)
    for _, params in plan:
        assert all(isinstance(v, str) for v in params.values())


def test_like_wildcards_typed_by_the_user_are_not_patterns() -> None:
    assert name_patterns("%") is None
    assert name_patterns("Ив_нов") is None


def test_number_with_letters_is_not_searched_as_a_number() -> None:
    plan = dict(search_plan("8916abc4567"))
    assert "subscriber_by_msisdn" not in plan
    assert "subscriber_by_account" not in plan


def test_empty_and_overlong_text() -> None:
    assert search_plan("   ") == []
    assert all(
        len(str(v)) <= 101 for _, p in search_plan("Я" * 5000) for v in p.values()
    )  # 100 letters + "%"


def test_driver_errors_are_logged_without_the_values_they_echo() -> None:
    from billing_adapter.dbapi import safe_error

    exc = Exception("22P02", '[22P02] ERROR: invalid input syntax for type bigint: "Иванов"\nLINE 1: ...')
    assert safe_error(exc) == "[22P02] ERROR: invalid input syntax for type bigint: …"
    exc = Exception("HY000", "[HY000] no row for '79161234567' and 79161234567")
    assert "79161234567" not in safe_error(exc)
