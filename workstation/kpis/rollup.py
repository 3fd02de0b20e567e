"""Hourly roll-up of the call facts: what the reports read, so a week over a million calls stays fast.

Per UTC hour the calls reached the floor, one row per queue (operator 0; "" = direct calls) and one per
operator (queue ""), each holding the same additive counts as
``formulas.FIELDS`` plus calls answered of any kind, first-contact resolution counts and the operators'
busy / ready seconds. The KPI service keeps it in step with the facts: every change of a call's
contribution is written as a difference (``kpi_delta``), through the call writer, in the batch that writes
the fact itself; a finished request record adds to FCR (``kpi_fcr``); a closed operator state adds its
seconds to the hours it spans (``kpi_delta`` too). ``reports.recount`` recomputes the same figures from the
call facts, which is how the tests prove the two agree.

Reports bucket whole UTC hours into the contact center's hours, days and weeks: exact for zones whose
offset is a whole number of hours (every Russian zone).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from workstation.kpis import formulas as f
from workstation.kpis.models import NO_OPERATOR, KpiHourly
from workstation.models import Call

EXTRA = ("answered_all", "fcr_resolved", "fcr_total", "busy_s", "ready_s")
COLUMNS = (*f.FIELDS, *EXTRA)
Key = tuple[int, str, int]  # (UTC hour as epoch seconds, queue or "", operator id or 0)


def hour(ts: float) -> int:
    return int(math.floor(ts / 3600) * 3600)


def keys_of(fact: f.Fact) -> list[Key]:
    """The rows a call counts in: its queue's (operator 0), and its operator's (queue "") once answered."""
    slot = hour(fact.start)
    keys = [(slot, fact.queue or "", NO_OPERATOR)]
    if fact.operator_id:
        keys.append((slot, "", fact.operator_id))
    return keys


def vector(fact: f.Fact, rules: f.Rules) -> list[float]:
    """The fact's roll-up contribution: its counts and whether it was answered at all."""
    return [*f.contribution(fact, rules), int(fact.answered_at is not None)]


Counted = tuple[tuple[Key, ...], list[float]]


def deltas(old: Counted | None, keys: list[Key], new: list[float]) -> list[list[Any]]:
    """The rows to add when a fact that counted ``old`` (its keys, its vector) now counts ``new`` under
    ``keys``."""
    change: dict[Key, list[float]] = {}  # counts stay integers; only the seconds of states are not
    if old is not None:
        for key in old[0]:
            change[key] = [-x for x in old[1]]
    for key in keys:
        prev = change.get(key, [0] * len(new))
        change[key] = [a + b for a, b in zip(prev, new, strict=True)]
    return [[*key, _sparse(vec)] for key, vec in change.items() if any(vec)]


def _sparse(vec: list[float]) -> dict[str, float]:
    return {COLUMNS[i]: v for i, v in enumerate(vec) if v}


def state_seconds(uid: int, state: str, start: float, end: float) -> list[list[Any]]:
    """Busy or ready seconds of one closed operator state, split over the hours it spans."""
    column = "busy_s" if state in ("on_call", "wrap_up") else "ready_s" if state == "ready" else None
    rows: list[list[Any]] = []
    t = start
    while column and t < end:
        slot = hour(t)
        upto = min(end, slot + 3600)
        rows.append([slot, "", uid, {column: upto - t}])
        t = upto
    return rows


def apply_deltas(s: Session, ops: list[dict[str, Any]]) -> None:
    """Writer operation ``kpi_delta`` (a batch of them): add each row's values to its (slot, queue,
    operator) row. The batch's rows are summed per key first: one upsert per key per batch."""
    total: dict[Key, dict[str, float]] = {}
    for fields in ops:
        for slot, queue, operator_id, values in fields["rows"]:
            _add(total, (slot, queue, operator_id), values)
    _upsert_many(s, total)


def apply_fcr(s: Session, ops: list[dict[str, Any]]) -> None:
    """Writer operation ``kpi_fcr`` (a batch of them): a finished request record of a call counts in
    that call's hour."""
    ids = {fields["call"] for fields in ops}
    calls = {r.id: r for r in s.execute(select(Call.id, Call.started_at, Call.queue).where(Call.id.in_(ids)))}
    total: dict[Key, dict[str, float]] = {}
    for fields in ops:
        row = calls.get(fields["call"])
        if row is None or row.started_at is None:
            continue
        started = row.started_at if row.started_at.tzinfo else row.started_at.replace(tzinfo=UTC)
        values: dict[str, float] = {"fcr_total": 1, "fcr_resolved": int(fields["outcome"] == "resolved")}
        slot = hour(started.timestamp())
        _add(total, (slot, row.queue or "", NO_OPERATOR), values)
        if fields["operator_id"]:
            _add(total, (slot, "", fields["operator_id"]), values)
    _upsert_many(s, total)


def _add(total: dict[Key, dict[str, float]], key: Key, values: dict[str, float]) -> None:
    row = total.setdefault(key, {})
    for column, v in values.items():
        row[column] = row.get(column, 0) + v


_UPSERTS: dict[str, Any] = {}


def _upsert_statement(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (slot, queue, operator_id) DO UPDATE SET c = c + excluded.c`` over every
    column, built once per dialect (one compiled form, run as an executemany)."""
    stmt = _UPSERTS.get(dialect)
    if stmt is None:
        table = cast(Table, KpiHourly.__table__)
        insert = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
        stmt = _UPSERTS[dialect] = insert.on_conflict_do_update(
            index_elements=["slot", "queue", "operator_id"],
            set_={c: table.c[c] + insert.excluded[c] for c in COLUMNS},
        )
    return stmt


def _upsert_many(s: Session, total: dict[Key, dict[str, float]]) -> None:
    rows = [
        {
            "slot": datetime.fromtimestamp(slot, UTC),
            "queue": queue,
            "operator_id": operator_id,
            **{c: values.get(c, 0) for c in COLUMNS},
        }
        for (slot, queue, operator_id), values in total.items()
    ]
    if rows:
        s.execute(_upsert_statement(s.get_bind().dialect.name), rows)


def register(writer: Any) -> None:
    """The writer operations of the roll-up."""
    writer.batch_appliers["kpi_delta"] = apply_deltas
    writer.batch_appliers["kpi_fcr"] = apply_fcr
