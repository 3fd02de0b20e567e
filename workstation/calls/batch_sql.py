"""The call writer's built-in operations as a few Core statements per batch.

The batch is folded in Python first (each call's fields in order, times kept once), then written as one
executemany per statement shape: new calls, changed calls, events, audit rows, presence. Building ORM
objects and flushing them cost the writer's thread 6–11 ms of interpreter time per 150-operation batch,
time the event loop waited for the GIL (``benchmarks/call_writer.py``, issue 16).

Kinds: ``upsert`` and ``subscriber`` set a call's facts (``None`` leaves a fact as it is, except
``operator_id``; the history times of ``WRITE_ONCE`` never move once set, so a resync learning a call
again changes nothing), ``event`` adds a call event, ``audit`` an audit row, ``presence`` sets a user's
presence (unknown users are ignored).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from workstation.calls.outbox import Op
from workstation.models import AuditLog, Call, CallEventRow, User

TIME_FIELDS = frozenset(
    {"queued_at", "offered_at", "answered_at", "ended_at", "wrapup_done_at", "started_at"}
)
WRITE_ONCE = ("queued_at", "offered_at", "answered_at")
CALL_KINDS = frozenset({"upsert", "subscriber", "event"})  # operations whose call_id names a call row
KINDS = CALL_KINDS | {"audit", "presence"}

_CALLS = cast(Table, Call.__table__)
_EVENTS = cast(Table, CallEventRow.__table__)
_AUDIT = cast(Table, AuditLog.__table__)
_USERS = cast(Table, User.__table__)
_CALL_COLUMNS = frozenset(_CALLS.c.keys())
log = logging.getLogger(__name__)


def _ts(v: Any) -> Any:
    return datetime.fromtimestamp(v, UTC) if isinstance(v, int | float) else v


@dataclass
class Fold:
    """A batch's built-in operations, folded: what each statement will carry."""

    known: dict[str, set[str]]  # call id -> write-once times the DB already has (present: the row exists)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)  # call id -> facts to set, in order
    events: list[dict[str, Any]] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    presence: dict[int, str] = field(default_factory=dict)  # user id -> the batch's last presence

    def add(self, op: Op) -> None:
        f = op.fields
        if op.kind in CALL_KINDS:
            facts = self.calls.setdefault(op.call_id, {})
            if op.kind == "event":
                self.events.append(
                    {"call_id": op.call_id, "type": f["type"], "agent": f["agent"], "data": f["data"]}
                )
                return
            once = self.known.get(op.call_id, set())
            for k, v in f.items():
                if k not in _CALL_COLUMNS or k == "id":
                    _unknown_fact(k)
                    continue
                if v is None and k != "operator_id":
                    continue
                if k in WRITE_ONCE and (k in once or facts.get(k) is not None):
                    continue
                facts[k] = _ts(v) if k in TIME_FIELDS else v
        elif op.kind == "audit":
            self.audits.append(
                {
                    "user_id": f["user_id"],
                    "action": f["action"],
                    "subject": f.get("subject"),
                    "reason": f.get("reason"),
                    "details": f.get("details") or {},
                }
            )
        elif op.kind == "presence":
            self.presence[f["user_id"]] = f["presence"]


_WARNED: set[str] = set()


def _unknown_fact(name: str) -> None:
    """A fact no column holds (a newer node's, or a typo) is left out, as the ORM did; said once per name."""
    if name not in _WARNED:
        _WARNED.add(name)
        log.warning("call writer: no call column %r, that fact is not written", name)


def _by_shape(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Rows grouped by their keys: one executemany per group."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return groups


def apply_builtin(s: Session, ops: list[Op]) -> None:
    """Write the batch's built-in operations (``KINDS``) in the session's transaction."""
    call_ids = {op.call_id for op in ops if op.kind in CALL_KINDS}
    known: dict[str, set[str]] = {}
    if call_ids:
        cols = [_CALLS.c.id, *(_CALLS.c[k] for k in WRITE_ONCE)]
        for row in s.execute(select(*cols).where(_CALLS.c.id.in_(call_ids))):
            known[row[0]] = {k for k, v in zip(WRITE_ONCE, row[1:], strict=True) if v is not None}
    fold = Fold(known)
    for op in ops:
        fold.add(op)
    new = [{"caller": "", **facts, "id": cid} for cid, facts in fold.calls.items() if cid not in known]
    for rows in _by_shape(new).values():
        s.execute(insert(_CALLS), rows)
    changed = [{**facts, "id": cid} for cid, facts in fold.calls.items() if cid in known and facts]
    for shape, rows in _by_shape(changed).items():
        values: dict[str, Any] = {k: bindparam("v_" + k) for k in shape if k != "id"}
        stmt = update(_CALLS).where(_CALLS.c.id == bindparam("v_id")).values(values)
        s.execute(stmt, [{"v_" + k: v for k, v in row.items()} for row in rows])
    if fold.events:
        s.execute(insert(_EVENTS), fold.events)
    if fold.audits:
        s.execute(insert(_AUDIT), fold.audits)
    if fold.presence:
        users = set(s.scalars(select(_USERS.c.id).where(_USERS.c.id.in_(fold.presence))))
        rows = [{"v_id": uid, "v_presence": p} for uid, p in fold.presence.items() if uid in users]
        if rows:
            stmt = (
                update(_USERS)
                .where(_USERS.c.id == bindparam("v_id"))
                .values(presence=bindparam("v_presence"))
            )
            s.execute(stmt, rows)
