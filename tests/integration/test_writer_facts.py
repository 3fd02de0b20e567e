"""What the call writer's batches leave in the history, on SQLite and PostgreSQL: the times a call got first,
facts cleared only where asked, events in the order they happened, and no batch lost to one odd operation."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import migrated_db
from workstation.auth import create_user
from workstation.calls.writer import CallWriter
from workstation.db import Database
from workstation.models import AuditLog, Call, CallEventRow, User

T = 1_796_000_400.0


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[Database]:
    yield from migrated_db(request, tmp_path_factory, "facts")


def call(db: Database, call_id: str) -> Call:
    with db.session() as s:
        row = s.get(Call, call_id)
        assert row is not None
        return row


async def test_a_resync_learning_a_call_again_never_moves_its_times(db: Database) -> None:
    uid = create_user(db, "op", "secret123", "operator").id
    writer = CallWriter(db)
    writer.put("upsert", "L1", caller="79161234567", queue="support", state="queued", queued_at=T)
    writer.put("upsert", "L1", state="ringing", offered_at=T + 2)
    writer.put("upsert", "L1", state="ringing", offered_at=T + 4)  # a second ring of the same call
    assert await writer.flush()
    # a reconnect re-learns the call, with the moments it sees it at
    writer.put("upsert", "L1", caller="79161234567", state="queued", queued_at=T + 30, offered_at=T + 31)
    writer.put("upsert", "L1", state="connected", answered_at=T + 32, operator_id=uid)
    writer.put("upsert", "L1", answered_at=T + 40, ended_at=T + 90, state="ended")
    assert await writer.flush()
    row = call(db, "L1")
    assert (row.queued_at.timestamp(), row.offered_at.timestamp()) == (T, T + 2)  # type: ignore[union-attr]
    assert row.answered_at.timestamp() == T + 32  # type: ignore[union-attr]
    assert row.ended_at.timestamp() == T + 90  # type: ignore[union-attr]
    assert (row.state, row.operator_id, row.queue) == ("ended", uid, "support")


async def test_only_the_operator_is_cleared_by_an_empty_value(db: Database) -> None:
    uid = create_user(db, "op", "secret123", "operator").id
    writer = CallWriter(db)
    writer.put("upsert", "L1", caller="79161234567", queue="support", state="connected", operator_id=uid)
    assert await writer.flush()
    writer.put("upsert", "L1", queue=None, state="queued", operator_id=None)  # transferred back to the queue
    assert await writer.flush()
    row = call(db, "L1")
    assert (row.queue, row.state, row.operator_id) == ("support", "queued", None)


async def test_events_keep_their_order_and_a_call_known_only_by_its_events_is_kept(db: Database) -> None:
    writer = CallWriter(db)
    for n, kind in enumerate(["queued", "offered", "withdrawn", "offered", "answered", "ended"]):
        writer.event("D1", kind, "PJSIP/1001" if n else None, {"n": n})
    writer.audit(None, "card.pop", "42", {"call_id": "D1"})
    writer.audit(None, "card.view", "42", {"call_id": "D1"}, reason="caller asked")
    assert await writer.flush()
    with db.session() as s:
        events = s.execute(select(CallEventRow.type, CallEventRow.data).order_by(CallEventRow.id)).all()
        audits = s.execute(select(AuditLog.action, AuditLog.reason).order_by(AuditLog.id)).all()
    assert [t for t, _ in events] == ["queued", "offered", "withdrawn", "offered", "answered", "ended"]
    assert [d["n"] for _, d in events] == [0, 1, 2, 3, 4, 5]
    assert audits == [("card.pop", None), ("card.view", "caller asked")]
    assert call(db, "D1").caller == ""  # known only by its events: a row the events can point to


async def test_odd_operations_cost_nothing_else_of_the_batch(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    uid = create_user(db, "op", "secret123", "operator").id
    writer = CallWriter(db)
    writer.put("presence", "", user_id=uid + 1000, presence="ready")  # a user deleted meanwhile
    writer.put("presence", "", user_id=uid, presence="ready")
    writer.put("presence", "", user_id=uid, presence="on_call")
    odd = f"from_a_newer_node_{uuid.uuid4().hex[:6]}"  # a fact no column holds
    writer.put("upsert", "L1", caller="79161234567", state="queued", **{odd: 1})
    writer.put("upsert", "L2", caller="79161234568", state="queued", **{odd: 2})
    with caplog.at_level(logging.WARNING, logger="workstation.calls"):
        assert await writer.flush()
    assert writer.quarantined_count == 0
    assert (call(db, "L1").state, call(db, "L2").caller) == ("queued", "79161234568")
    with db.session() as s:
        assert s.scalar(select(User.presence).where(User.id == uid)) == "on_call"
    said = [r.getMessage() for r in caplog.records if odd in r.getMessage()]
    assert len(said) == 1  # said once per name, not once per operation
