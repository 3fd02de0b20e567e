"""The same figures as the board, by hour, day or week, per queue or per operator: one SQL aggregate.

``report`` sums the hourly roll-up (``rollup.py``, kept in step with the call facts by the KPI service);
``recount`` computes the same counts straight from the call facts with ``SUM(CASE …)`` mirroring
``formulas.contribution`` column for column. Either way the figures are derived by ``formulas.figures``,
so a report and the board agree on the same calls. Buckets are in the contact center's time zone
(``kpi_timezone``): PostgreSQL converts exactly; SQLite (the embedded demo) applies the zone's current
UTC offset.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, case, cast, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from workstation.db import Database
from workstation.kpis import formulas as f
from workstation.kpis import rollup
from workstation.kpis.models import NO_OPERATOR, KpiHourly
from workstation.models import Call, User

BUCKETS = ("hour", "day", "week")
GROUPS = ("all", "queue", "operator")
DRILL = ("offered", "answered", "answered_in_sl", "missed_sl", "abandoned", "abandoned_short")


class ReportError(ValueError):
    """A report asked for something that is not a report (bad bucket, group, period)."""

    def __init__(self, message: str, error_id: str) -> None:
        super().__init__(message)
        self.error_id = error_id


def _bucket(db: Database, col: Any, bucket: str, tz: str) -> ColumnElement[Any]:
    if db.dialect == "postgresql":  # a local timestamp (formatted in Python: to_char per row costs)
        return func.date_trunc(bucket, func.timezone(tz, col))
    offset = int(datetime.now(ZoneInfo(tz)).utcoffset().total_seconds())  # type: ignore[union-attr]
    local = func.datetime(col, f"{offset:+d} seconds")
    if bucket == "hour":
        return func.strftime("%Y-%m-%d %H:00", local)
    if bucket == "day":
        return func.strftime("%Y-%m-%d 00:00", local)
    return func.strftime("%Y-%m-%d 00:00", func.datetime(local, "weekday 0", "-6 days"))


def _label(bucket: Any) -> str:
    """A bucket as ``YYYY-MM-DD HH:MM`` local time (PostgreSQL gives a timestamp, SQLite the text)."""
    return bucket.strftime("%Y-%m-%d %H:%M") if isinstance(bucket, datetime) else str(bucket)


def _counts(rules: f.Rules) -> list[ColumnElement[Any]]:
    """One SQL column per ``formulas.FIELDS`` entry (same order), plus calls answered of any kind."""
    thr: ColumnElement[Any] = literal(rules.threshold_s)
    if rules.queue_thresholds:
        thr = case(
            *((Call.queue == q, t) for q, t in rules.queue_thresholds.items()), else_=rules.threshold_s
        )
    queued = Call.queue.is_not(None)
    answered = and_(queued, Call.answered_at.is_not(None), Call.wait_s.is_not(None))
    abandoned = and_(queued, Call.state == "abandoned", Call.answered_at.is_(None), Call.wait_s.is_not(None))

    def n(cond: ColumnElement[bool], value: Any = 1) -> ColumnElement[Any]:
        return func.coalesce(func.sum(case((cond, value), else_=0)), 0)

    return [
        n(queued),
        n(answered),
        n(and_(answered, Call.wait_s <= thr)),
        n(and_(abandoned, Call.wait_s > rules.short_abandon_s)),
        n(and_(abandoned, Call.wait_s <= rules.short_abandon_s)),
        n(and_(abandoned, Call.wait_s <= thr)),
        n(answered, Call.wait_s),
        func.count(Call.talk_s),
        func.coalesce(func.sum(Call.talk_s), 0),
        func.count(Call.acw_s),
        func.coalesce(func.sum(Call.acw_s), 0),
        n(Call.answered_at.is_not(None)),
    ]


def _period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if start.tzinfo is None or end.tzinfo is None:
        raise ReportError("period bounds need a time zone", error_id="kpi_bad_period")
    if end <= start or end - start > timedelta(days=93):
        raise ReportError("the period must be positive and at most 93 days", error_id="kpi_bad_period")
    return start.astimezone(UTC), end.astimezone(UTC)


def _rows(bucket: str, tz: str, rows: Any, rules: f.Rules) -> list[dict[str, Any]]:
    zone = ZoneInfo(tz)
    step = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}[bucket]
    out = []
    for r in rows:
        counts = [int(v or 0) for v in r[2 : 2 + len(f.FIELDS)]]
        label = _label(r.b)
        local = datetime.strptime(label, "%Y-%m-%d %H:%M").replace(tzinfo=zone)
        row = {
            "bucket": label,
            "bucket_start": local.isoformat(),
            "bucket_end": (local + step).isoformat(),
            "key": r.k,
        }
        row.update(f.figures(counts, rules))
        out.append(row)
    return out


def _check(bucket: str, group: str) -> None:
    if bucket not in BUCKETS:
        raise ReportError(f"bucket must be one of {', '.join(BUCKETS)}", error_id="kpi_bad_bucket")
    if group not in GROUPS:
        raise ReportError(f"group must be one of {', '.join(GROUPS)}", error_id="kpi_bad_group")


def report(
    db: Database,
    rules: f.Rules,
    start: datetime,
    end: datetime,
    *,
    bucket: str = "hour",
    group: str = "queue",
    tz: str = "UTC",
    queue: str | None = None,
    operator_id: int | None = None,
) -> list[dict[str, Any]]:
    """Rows of ``{"bucket", "key", **figures}`` for calls that reached the floor in [start, end), read from
    the hourly roll-up (whole hours: a bound inside an hour counts that hour from its start). Per operator,
    every queue together (``queue`` filters queue reports); per queue, ``operator_id`` is not a filter."""
    _check(bucket, group)
    start, end = _period(start, end)
    h = KpiHourly
    b = _bucket(db, h.slot, bucket, tz).label("b")
    key: ColumnElement[Any] = {"all": literal("*"), "queue": h.queue, "operator": h.operator_id}[group].label(
        "k"
    )
    sums = [func.sum(getattr(h, c)) for c in rollup.COLUMNS]
    where = [h.slot >= start.replace(minute=0, second=0, microsecond=0), h.slot < end]
    if group == "operator":  # the operators' rows (every queue together)
        where += [h.queue == "", h.operator_id != NO_OPERATOR]
        if operator_id is not None:
            where.append(h.operator_id == operator_id)
    else:  # the queues' rows
        where.append(h.operator_id == NO_OPERATOR)
        if queue is not None:
            where.append(h.queue == queue)
    stmt = select(b, key, *sums).where(*where).group_by(b, key).order_by(b, key)
    with db.session() as s:
        rows = s.execute(stmt).all()
    out = []
    for r, row in zip(rows, _rows(bucket, tz, rows, rules), strict=True):
        extra = dict(zip(rollup.EXTRA, r[2 + len(f.FIELDS) :], strict=True))
        if group != "operator" and not (row["offered"] or extra["answered_all"] or row["talked"]):
            continue  # an hour that holds only operators' time
        row["answered_all"] = int(extra["answered_all"] or 0)
        row["fcr_pct"] = f.fcr(int(extra["fcr_resolved"] or 0), int(extra["fcr_total"] or 0))
        row["occupancy_pct"] = f.occupancy(float(extra["busy_s"] or 0), float(extra["ready_s"] or 0))
        out.append(row)
    return out


def recount(
    db: Database,
    rules: f.Rules,
    start: datetime,
    end: datetime,
    *,
    bucket: str = "hour",
    group: str = "queue",
    tz: str = "UTC",
) -> list[dict[str, Any]]:
    """The call counts of ``report`` recomputed from the call facts themselves (no roll-up): the check
    that the roll-up is in step, and the way to rebuild it after a change of thresholds."""
    _check(bucket, group)
    start, end = _period(start, end)
    b = _bucket(db, Call.started_at, bucket, tz).label("b")
    key: ColumnElement[Any] = {
        "all": literal("*"),
        "queue": func.coalesce(Call.queue, ""),
        "operator": Call.operator_id,
    }[group].label("k")
    where = [Call.started_at >= start, Call.started_at < end]
    if group == "operator":
        where.append(Call.operator_id.is_not(None))
    stmt = select(b, key, *_counts(rules)).where(*where).group_by(b, key).order_by(b, key)
    with db.session() as s:
        rows = s.execute(stmt).all()
    out = _rows(bucket, tz, rows, rules)
    for r, row in zip(rows, out, strict=True):
        row["answered_all"] = int(r[-1])
    return out


def calls(
    db: Database,
    rules: f.Rules,
    start: datetime,
    end: datetime,
    *,
    figure: str = "offered",
    queue: str | None = None,
    operator_id: int | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """The calls behind a figure (drill-down), newest first; no caller numbers (personal data)."""
    if figure not in DRILL:
        raise ReportError(f"figure must be one of {', '.join(DRILL)}", error_id="kpi_bad_figure")
    start, end = _period(start, end)
    thr: ColumnElement[Any] = literal(rules.threshold_s)
    if rules.queue_thresholds:
        thr = case(
            *((Call.queue == q, t) for q, t in rules.queue_thresholds.items()), else_=rules.threshold_s
        )
    answered = and_(Call.answered_at.is_not(None), Call.wait_s.is_not(None))
    abandoned = and_(Call.state == "abandoned", Call.answered_at.is_(None), Call.wait_s.is_not(None))
    cond = {
        "offered": Call.queue.is_not(None),
        "answered": answered,
        "answered_in_sl": and_(answered, Call.wait_s <= thr),
        "missed_sl": and_(answered, Call.wait_s > thr),
        "abandoned": and_(abandoned, Call.wait_s > rules.short_abandon_s),
        "abandoned_short": and_(abandoned, Call.wait_s <= rules.short_abandon_s),
    }[figure]
    stmt = (
        select(
            Call.id,
            Call.queue,
            Call.state,
            Call.operator_id,
            User.display_name,
            Call.subscriber_id,
            Call.started_at,
            Call.answered_at,
            Call.ended_at,
            Call.wait_s,
            Call.ring_s,
            Call.talk_s,
            Call.acw_s,
            Call.offers,
            cast(Call.wait_s <= thr, Integer),
        )
        .outerjoin(User, User.id == Call.operator_id)
        .where(Call.started_at >= start, Call.started_at < end, cond)
        .order_by(Call.started_at.desc())
        .limit(max(1, min(limit, 5000)))
    )
    if queue is not None:
        stmt = stmt.where(Call.queue == queue)
    if operator_id is not None:
        stmt = stmt.where(Call.operator_id == operator_id)
    keys = (
        "id",
        "queue",
        "state",
        "operator_id",
        "operator",
        "subscriber_id",
        "started_at",
        "answered_at",
        "ended_at",
        "wait_s",
        "ring_s",
        "talk_s",
        "acw_s",
        "offers",
        "within_threshold",
    )
    with db.session() as s:
        return [dict(zip(keys, r, strict=True)) for r in s.execute(stmt)]


def facts(db: Database, start: datetime, end: datetime, queue: str | None = None) -> list[f.Fact]:
    """The stored facts of the calls that reached the floor in [start, end) (for ``asterisk.queue_params``)."""
    start, end = _period(start, end)
    stmt = select(
        Call.id,
        Call.queue,
        Call.started_at,
        Call.answered_at,
        Call.ended_at,
        Call.state,
        Call.operator_id,
        Call.wait_s,
        Call.ring_s,
        Call.talk_s,
        Call.acw_s,
    ).where(Call.started_at >= start, Call.started_at < end)
    if queue is not None:
        stmt = stmt.where(Call.queue == queue)
    with db.session() as s:
        return [fact_of(r) for r in s.execute(stmt)]


def fact_of(r: Any) -> f.Fact:
    """A ``Fact`` from a row of ``calls`` (the board rebuilds itself from these after a restart)."""
    return f.Fact(
        r.id,
        epoch(r.started_at),
        r.queue,
        operator_id=r.operator_id,
        answered_at=epoch(r.answered_at) if r.answered_at else None,
        ended_at=epoch(r.ended_at) if r.ended_at else None,
        wait_s=r.wait_s,
        ring_s=r.ring_s,
        talk_s=r.talk_s,
        acw_s=r.acw_s,
        abandoned=r.state == "abandoned" and r.answered_at is None,
    )


def epoch(dt: datetime) -> float:
    """Epoch seconds of a stored time (SQLite hands times back without their UTC zone)."""
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def operator_today(
    db: Database, rules: f.Rules, user_id: int, tz: str, now: datetime | None = None
) -> dict[str, Any]:
    """An operator's own figures since midnight: calls answered, average handle time, after-call work."""
    now = now or datetime.now(UTC)
    local = now.astimezone(ZoneInfo(tz))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = report(
        db,
        rules,
        start,
        start + timedelta(days=1),
        bucket="day",
        group="operator",
        tz=tz,
        operator_id=user_id,
    )
    if not rows:
        return {
            "answered": 0,
            "aht_s": None,
            "avg_talk_s": None,
            "avg_acw_s": None,
            "acw_total_s": 0,
            "fcr_pct": None,
        }
    r = rows[0]
    return {
        "answered": r["answered_all"],
        "aht_s": r["aht_s"],
        "avg_talk_s": r["avg_talk_s"],
        "avg_acw_s": r["avg_acw_s"],
        "acw_total_s": r["acw_s"],
        "fcr_pct": r["fcr_pct"],
    }
