"""Business hours: SLA clocks of most priorities run only while technical support works.

A calendar is working weekdays (0 = Monday), a daily window in a time zone, and holidays. Adding
minutes walks the working windows forward; a calendar with no working days means 24/7.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from workstation.errors import DomainError


@dataclass(frozen=True)
class BusinessHours:
    tz: str = "Europe/Moscow"
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
    start: time = time(8, 0)
    end: time = time(20, 0)
    holidays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BusinessHours:
        """From the JSON the supervisor edits; raises DomainError naming the bad field."""
        try:
            tz = str(d.get("tz", "Europe/Moscow"))
            ZoneInfo(tz)
            weekdays = tuple(sorted({int(x) for x in d.get("weekdays", [0, 1, 2, 3, 4, 5])}))
            if any(x < 0 or x > 6 for x in weekdays):
                raise ValueError("weekdays are 0 (Monday) … 6 (Sunday)")
            start = time.fromisoformat(str(d.get("start", "08:00")))
            end = time.fromisoformat(str(d.get("end", "20:00")))
            if end <= start:
                raise ValueError("the working day must end after it starts")
            holidays = frozenset(date.fromisoformat(str(x)) for x in d.get("holidays", []))
        except (ValueError, TypeError, KeyError) as exc:
            raise DomainError(f"bad business hours: {exc}", error_id="bad_business_hours") from None
        return cls(tz=tz, weekdays=weekdays, start=start, end=end, holidays=holidays)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tz": self.tz,
            "weekdays": list(self.weekdays),
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
            "holidays": sorted(d.isoformat() for d in self.holidays),
        }

    def is_working_day(self, d: date) -> bool:
        return d.weekday() in self.weekdays and d not in self.holidays

    def add_minutes(self, at: datetime, minutes: int) -> datetime:
        """The moment ``minutes`` of working time after ``at`` (UTC, aware)."""
        if not self.weekdays:
            return at + timedelta(minutes=minutes)
        zone = ZoneInfo(self.tz)
        cur = at.astimezone(zone)
        remaining = timedelta(minutes=minutes)
        for _ in range(3 * 366):
            day = cur.date()
            if self.is_working_day(day):
                open_at = datetime.combine(day, self.start, zone)
                close_at = datetime.combine(day, self.end, zone)
                if cur < open_at:
                    cur = open_at
                if cur < close_at:
                    available = close_at - cur
                    if remaining <= available:
                        return (cur + remaining).astimezone(UTC)
                    remaining -= available
            cur = datetime.combine(day + timedelta(days=1), time(0, 0), zone)
        raise DomainError(
            "business hours leave no working time within three years", error_id="bad_business_hours"
        )
