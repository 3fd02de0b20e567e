"""Request counts by topic per hour or day, with the trend against the previous period of equal length."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, literal_column, select
from sqlalchemy.orm import aliased

from classifier.topics import OTHER
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


def _bucket_label(dialect: str, bucket: str) -> Any:
    """SQL text of a record's UTC hour ('YYYY-MM-DD HH') or day ('YYYY-MM-DD'), for GROUP BY."""
    # constants are literals, not bound parameters, so SELECT and GROUP BY carry the same expression
    if dialect == "postgresql":
        utc = func.timezone(literal_column("'UTC'"), RequestRecord.created_at)
        return func.to_char(utc, literal_column("'YYYY-MM-DD HH24'" if bucket == "hour" else "'YYYY-MM-DD'"))
    # SQLite keeps the UTC wall time as text
    return func.strftime(
        literal_column("'%Y-%m-%d %H'" if bucket == "hour" else "'%Y-%m-%d'"), RequestRecord.created_at
    )


def _acceptance(s: Any, in_period: tuple[Any, ...]) -> dict[str, int]:
    """How finished records used the suggestions shown: accepted at rank 1/2/3, overridden (the main
    topic was not among them), or none shown. The classifier's quality as operators see it."""
    rows = s.execute(
        select(RequestRecord.accepted_rank, RequestRecord.best_confidence.is_(None), func.count())
        .where(*in_period, RequestRecord.status == "finished")
        .group_by(RequestRecord.accepted_rank, RequestRecord.best_confidence.is_(None))
    ).all()
    out = {"rank1": 0, "rank2": 0, "rank3": 0, "overridden": 0, "none_shown": 0}
    for rank, none_shown, count in rows:
        if rank in (1, 2, 3):
            out[f"rank{rank}"] += int(count)
        elif none_shown:
            out["none_shown"] += int(count)
        else:
            out["overridden"] += int(count)
    return out


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
    """Counts of requests (by creation time) per topic and bucket in [start, end), plus the previous period,
    counted by the database (GROUP BY topic and hour/day).

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
    label = _bucket_label(db.dialect, bucket)
    in_period = (RequestRecord.created_at >= start, RequestRecord.created_at < end)
    in_previous = (RequestRecord.created_at >= prev_start, RequestRecord.created_at < start)
    # a record promoted from free text to a new topic keeps its "other" row (the operator's own choice);
    # it is counted under the new topic only, or "other" and the new topic would both count it
    promoted = aliased(RecordTopic)
    superseded = (Topic.code == OTHER) & exists().where(
        promoted.record_id == RequestRecord.id, promoted.source == "promoted"
    )
    joined = (
        select(Topic.code, func.count())
        .select_from(RequestRecord)
        .join(RecordTopic, RecordTopic.record_id == RequestRecord.id)
        .join(Topic, Topic.id == RecordTopic.topic_id)
        .where(~superseded)
    )
    with db.session() as s:
        rows = s.execute(joined.add_columns(label).where(*in_period).group_by(Topic.code, label)).all()
        prev_rows = s.execute(joined.where(*in_previous).group_by(Topic.code)).all()
        names = {t.code: (t.name_ru, t.name_en, t.archived) for t in s.scalars(select(Topic))}
        cur_records = s.scalar(select(func.count()).select_from(RequestRecord).where(*in_period)) or 0
        per_bucket = s.execute(
            select(label, func.count()).select_from(RequestRecord).where(*in_period).group_by(label)
        ).all()
        prev_records = s.scalar(select(func.count()).select_from(RequestRecord).where(*in_previous)) or 0
        accepted = _acceptance(s, in_period)
    fmt = "%Y-%m-%d %H" if bucket == "hour" else "%Y-%m-%d"
    counts: dict[str, list[int]] = {}
    for code, count, text in rows:
        at = datetime.strptime(str(text), fmt).replace(tzinfo=UTC)
        i = int((at - start) / step)
        if 0 <= i < n:
            counts.setdefault(code, [0] * n)[i] += int(count)
    previous = {code: int(count) for code, count in prev_rows}
    records_per_bucket = [0] * n  # requests, not topic mentions: the chart's bars add up to the total tile
    for text, count in per_bucket:
        i = int((datetime.strptime(str(text), fmt).replace(tzinfo=UTC) - start) / step)
        if 0 <= i < n:
            records_per_bucket[i] += int(count)
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
    return {
        "bucket": bucket,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "buckets": [(start + i * step).isoformat() for i in range(n)],
        "series": series,
        "records_per_bucket": records_per_bucket,
        "total": cur_records,
        "acceptance": accepted,
        "previous_total": prev_records,
        "trend": _trend(cur_records, prev_records),
    }
