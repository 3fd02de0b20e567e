"""The same figures as the board, by hour, day or week, per queue or per operator: one SQL aggregate.

Counts are ``SUM(CASE …)`` over the call facts (``calls.started_at`` … ``acw_s``) mirroring
``formulas.contribution`` column for column, so a report and the board agree on the same calls; the
figures are then derived by ``formulas.figures``. Buckets are in the contact center's time zone
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
from workstation.kpis.models import AgentStateRow
from workstation.models import Call, User
from workstation.records.models import RequestRecord

BUCKETS = ("hour", "day", "week")
GROUPS = ("all", "queue", "operator")
DRILL = ("offered", "answered", "answered_in_sl", "missed_sl", "abandoned", "abandoned_short")


class ReportError(ValueError):
    """A report asked for something that is not a report (bad bucket, group, period)."""

    def __init__(self, message: str, error_id: str) -> None:
        super().__init__(message)
        self.error_id = error_id


def _bucket(db: Database, col: Any, bucket: str, tz: str) -> ColumnElement[Any]:
    if db.dialect == "postgresql":
        return func.to_char(func.date_trunc(bucket, func.timezone(tz, col)), "YYYY-MM-DD HH24:MI")
    offset = int(datetime.now(ZoneInfo(tz)).utcoffset().total_seconds())  # type: ignore[union-attr]
    local = func.datetime(col, f"{offset:+d} seconds")
    if bucket == "hour":
        return func.strftime("%Y-%m-%d %H:00", local)
    if bucket == "day":
        return func.strftime("%Y-%m-%d 00:00", local)
    return func.strftime("%Y-%m-%d 00:00", func.datetime(local, "weekday 0", "-6 days"))


def _counts(rules: f.Rules) -> list[ColumnElement[Any]]:
    """One SQL column per ``formulas.FIELDS`` entry (same order), plus calls answered of any kind."""
    thr: ColumnElement[Any] = literal(rules.threshold_s)
    if rules.queue_thresholds:
        thr = case(*((Call.queue == q, t) for q, t in rules.queue_thresholds.items()), else_=rules.threshold_s)
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
    """Rows of ``{"bucket", "key", **figures}`` for calls that reached the floor in [start, end)."""
    if bucket not in BUCKETS:
        raise ReportError(f"bucket must be one of {', '.join(BUCKETS)}", error_id="kpi_bad_bucket")
    if group not in GROUPS:
        raise ReportError(f"group must be one of {', '.join(GROUPS)}", error_id="kpi_bad_group")
    start, end = _period(start, end)
    b = _bucket(db, Call.started_at, bucket, tz).label("b")
    key: ColumnElement[Any] = {"all": literal("*"), "queue": func.coalesce(Call.queue, ""), "operator": Call.operator_id}[
        group
    ].label("k")
    where = [Call.started_at >= start, Call.started_at < end]
    if queue is not None:
        where.append(Call.queue == queue)
    if operator_id is not None:
        where.append(Call.operator_id == operator_id)
    if group == "operator":
        where.append(Call.operator_id.is_not(None))
    stmt = select(b, key, *_counts(rules)).where(*where).group_by(b, key).order_by(b, key)
    with db.session() as s:
        rows = s.execute(stmt).all()
        extra = _operator_extras(s, db, start, end, bucket, tz, operator_id) if group == "operator" else {}
    out = []
    zone = ZoneInfo(tz)
    for r in rows:
        counts = [int(v) for v in r[2 : 2 + len(f.FIELDS)]]
        local = datetime.strptime(r.b, "%Y-%m-%d %H:%M").replace(tzinfo=zone)
        step = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}[bucket]
        row = {
            "bucket": r.b,
            "bucket_start": local.isoformat(),
            "bucket_end": (local + step).isoformat(),
            "key": r.k,
            **f.figures(counts, rules),
            "answered_all": int(r[-1]),
        }
        row.update(extra.get((r.b, r.k), {"fcr_pct": None, "occupancy_pct": None}))
        out.append(row)
    return out


def _operator_extras(
    s: Any, db: Database, start: datetime, end: datetime, bucket: str, tz: str, operator_id: int | None
) -> dict[tuple[str, Any], dict[str, Any]]:
    """First-contact resolution (request records of the calls) and occupancy (state log) per operator."""
    b = _bucket(db, Call.started_at, bucket, tz).label("b")
    finished = and_(RequestRecord.status == "finished", RequestRecord.outcome.is_not(None))
    q = (
        select(
            b,
            RequestRecord.operator_id,
            func.sum(case((RequestRecord.outcome == "resolved", 1), else_=0)),
            func.count(RequestRecord.id),
        )
        .join(Call, Call.id == RequestRecord.call_id)
        .where(Call.started_at >= start, Call.started_at < end, finished)
        .group_by(b, RequestRecord.operator_id)
    )
    if operator_id is not None:
        q = q.where(RequestRecord.operator_id == operator_id)
    out: dict[tuple[str, Any], dict[str, Any]] = {}
    for r in s.execute(q):
        out[(r[0], r[1])] = {"fcr_pct": f.fcr(int(r[2]), int(r[3])), "occupancy_pct": None}
    sb = _bucket(db, AgentStateRow.started_at, bucket, tz).label("b")
    ended = func.coalesce(AgentStateRow.ended_at, end)
    seconds = _seconds(db, AgentStateRow.started_at, ended)
    busy = func.sum(case((AgentStateRow.state.in_(("on_call", "wrap_up")), seconds), else_=0))
    ready = func.sum(case((AgentStateRow.state == "ready", seconds), else_=0))
    sq = (
        select(sb, AgentStateRow.user_id, busy, ready)
        .where(AgentStateRow.started_at >= start, AgentStateRow.started_at < end)
        .group_by(sb, AgentStateRow.user_id)
    )
    if operator_id is not None:
        sq = sq.where(AgentStateRow.user_id == operator_id)
    for r in s.execute(sq):
        entry = out.setdefault((r[0], r[1]), {"fcr_pct": None, "occupancy_pct": None})
        entry["occupancy_pct"] = f.occupancy(float(r[2] or 0), float(r[3] or 0))
    return out


def _seconds(db: Database, a: Any, b: Any) -> ColumnElement[Any]:
    if db.dialect == "postgresql":
        return func.extract("epoch", b - a)
    return (func.julianday(b) - func.julianday(a)) * 86400.0


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
        thr = case(*((Call.queue == q, t) for q, t in rules.queue_thresholds.items()), else_=rules.threshold_s)
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
            Call.id, Call.queue, Call.state, Call.operator_id, User.display_name, Call.subscriber_id,
            Call.started_at, Call.answered_at, Call.ended_at, Call.wait_s, Call.ring_s, Call.talk_s,
            Call.acw_s, Call.offers, cast(Call.wait_s <= thr, Integer),
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
        "id", "queue", "state", "operator_id", "operator", "subscriber_id", "started_at", "answered_at",
        "ended_at", "wait_s", "ring_s", "talk_s", "acw_s", "offers", "within_threshold",
    )
    with db.session() as s:
        return [dict(zip(keys, r, strict=True)) for r in s.execute(stmt)]


def facts(db: Database, start: datetime, end: datetime, queue: str | None = None) -> list[f.Fact]:
    """The stored facts of the calls that reached the floor in [start, end) (for ``asterisk.queue_params``)."""
    start, end = _period(start, end)
    stmt = select(
        Call.id, Call.queue, Call.started_at, Call.answered_at, Call.ended_at, Call.state, Call.operator_id,
        Call.wait_s, Call.ring_s, Call.talk_s, Call.acw_s,
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


def operator_today(db: Database, rules: f.Rules, user_id: int, tz: str, now: datetime | None = None) -> dict[str, Any]:
    """An operator's own figures since midnight: calls answered, average handle time, after-call work."""
    now = now or datetime.now(UTC)
    local = now.astimezone(ZoneInfo(tz))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = report(db, rules, start, start + timedelta(days=1), bucket="day", group="operator", tz=tz, operator_id=user_id)
    if not rows:
        return {"answered": 0, "aht_s": None, "avg_talk_s": None, "avg_acw_s": None, "acw_total_s": 0, "fcr_pct": None}
    r = rows[0]
    return {
        "answered": r["answered_all"],
        "aht_s": r["aht_s"],
        "avg_talk_s": r["avg_talk_s"],
        "avg_acw_s": r["avg_acw_s"],
        "acw_total_s": r["acw_s"],
        "fcr_pct": r["fcr_pct"],
    }
