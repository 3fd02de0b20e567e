"""Request counts by topic per hour or day, with the trend against the previous period of equal length."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from workstation.db import Database
from workstation.errors import DomainError
from workstation.records.models import RecordTopic, RequestRecord, Topic

BUCKETS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
MAX_BUCKETS = 24 * 93


def _floor(ts: datetime, bucket: str) -> datetime:
    ts = ts.astimezone(UTC)
    return (
        ts.replace(minute=0, second=0, microsecond=0)
        if bucket == "hour"
        else ts.replace(hour=0, minute=0, second=0, microsecond=0)
    )


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _trend(cur: int, prev: int) -> float | None:
    """Relative change against the previous period; None when the previous period had none."""
    return round((cur - prev) / prev, 3) if prev else None


def topic_stats(
    db: Database,
    bucket: str = "hour",
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Counts of requests (by creation time) per topic and bucket in [start, end), plus the previous period.

    A request with several topics counts once under each. Defaults: the last 24 hours by hour, or the
    last 14 days by day.
    """
    if bucket not in BUCKETS:
        raise DomainError("bucket must be hour or day", error_id="bad_bucket")
    step = BUCKETS[bucket]
    now = now or datetime.now(UTC)
    end = _floor(_aware(end), bucket) if end else _floor(now, bucket) + step
    start = _floor(_aware(start), bucket) if start else end - (24 * step if bucket == "hour" else 14 * step)
    if start >= end:
        raise DomainError("the period is empty: 'from' must be before 'to'", error_id="bad_period")
    n = int((end - start) / step)
    if n > MAX_BUCKETS:
        raise DomainError(
            f"too many {bucket}s in the period (at most {MAX_BUCKETS})", error_id="period_too_long"
        )
    prev_start = start - (end - start)
    with db.session() as s:
        rows = s.execute(
            select(RequestRecord.created_at, Topic.code)
            .join(RecordTopic, RecordTopic.record_id == RequestRecord.id)
            .join(Topic, Topic.id == RecordTopic.topic_id)
            .where(RequestRecord.created_at >= prev_start, RequestRecord.created_at < end)
        ).all()
        names = {t.code: (t.name_ru, t.name_en, t.archived) for t in s.scalars(select(Topic))}
        record_rows = s.execute(
            select(RequestRecord.created_at).where(
                RequestRecord.created_at >= prev_start, RequestRecord.created_at < end
            )
        ).all()
    counts: dict[str, list[int]] = {}
    previous: dict[str, int] = {}
    for created, code in rows:
        created = _aware(created)
        if created >= start:
            i = int((created - start) / step)
            counts.setdefault(code, [0] * n)[i] += 1
        else:
            previous[code] = previous.get(code, 0) + 1
    series: list[dict[str, Any]] = []
    for code in sorted(set(counts) | set(previous)):
        c = counts.get(code, [0] * n)
        total, prev = sum(c), previous.get(code, 0)
        ru, en, archived = names.get(code, (code, code, False))
        series.append(
            {
                "code": code,
                "name_ru": ru,
                "name_en": en,
                "archived": archived,
                "counts": c,
                "total": total,
                "previous_total": prev,
                "trend": _trend(total, prev),
            }
        )
    series.sort(key=lambda x: -x["total"])
    cur_records = sum(1 for (c,) in record_rows if _aware(c) >= start)
    prev_records = len(record_rows) - cur_records
    return {
        "bucket": bucket,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "buckets": [(start + i * step).isoformat() for i in range(n)],
        "series": series,
        "total": cur_records,
        "previous_total": prev_records,
        "trend": _trend(cur_records, prev_records),
    }
