"""SLA clocks count business hours in the support centre's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from workstation.errors import DomainError
from workstation.tickets.calendar import BusinessHours

MSK = BusinessHours.from_dict(
    {
        "tz": "Europe/Moscow",
        "weekdays": [0, 1, 2, 3, 4],
        "start": "09:00",
        "end": "18:00",
        "holidays": ["2026-11-04"],
    }
)


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


def test_minutes_inside_the_working_day_add_directly() -> None:
    # Monday 2026-11-16 10:00 MSK = 07:00 UTC
    assert MSK.add_minutes(utc(2026, 11, 16, 7, 0), 60) == utc(2026, 11, 16, 8, 0)


def test_time_after_closing_carries_to_the_next_morning() -> None:
    # Monday 17:30 MSK + 60 min → Tuesday 09:30 MSK (06:30 UTC)
    assert MSK.add_minutes(utc(2026, 11, 16, 14, 30), 60) == utc(2026, 11, 17, 6, 30)


def test_weekend_and_holidays_are_skipped() -> None:
    # Friday 2026-11-20 17:00 MSK + 120 min → Monday 10:00 MSK
    assert MSK.add_minutes(utc(2026, 11, 20, 14, 0), 120) == utc(2026, 11, 23, 7, 0)
    # Tuesday 2026-11-03 18:00 MSK; Wednesday is a holiday → Thursday 09:30
    assert MSK.add_minutes(utc(2026, 11, 3, 15, 0), 30) == utc(2026, 11, 5, 6, 30)
    assert not MSK.is_working_day(date(2026, 11, 4))


def test_a_calendar_without_working_days_is_round_the_clock() -> None:
    assert BusinessHours(weekdays=()).add_minutes(utc(2026, 11, 21, 23, 0), 120) == utc(2026, 11, 22, 1, 0)


@pytest.mark.parametrize(
    "bad",
    [
        {"start": "18:00", "end": "09:00"},
        {"tz": "Mars/Olympus"},
        {"weekdays": [9]},
        {"holidays": ["not-a-date"]},
    ],
)
def test_bad_business_hours_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(DomainError) as exc:
        BusinessHours.from_dict(bad)
    assert exc.value.error_id == "bad_business_hours"
