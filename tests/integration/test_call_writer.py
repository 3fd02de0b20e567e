"""The call-history writer on PostgreSQL: batches in any order land whole, nothing is lost."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.conftest import drop_pg_database, make_pg_database
from workstation.auth import create_user
from workstation.calls.writer import CallWriter
from workstation.db import Database
from workstation.migrate import upgrade
from workstation.models import AuditLog, Call, CallEventRow, User


async def test_a_batch_with_events_before_their_call_lands_in_one_transaction(pg_server_url: str) -> None:
    url = make_pg_database("writer")
    try:
        upgrade(url)
        db = Database(url)
        uid = create_user(db, "op", "secret123", "operator").id
        writer = CallWriter(db)
        # events can arrive before the call's first upsert (direct calls, resync): still one batch
        writer.event("L1", "offered", "PJSIP/1001", {"user_id": uid})
        writer.put("upsert", "L1", caller="79161234567", queue="support", state="ringing", offered_at=1.7e9)
        writer.put("upsert", "L1", state="connected", answered_at=1.7e9 + 3, operator_id=uid)
        writer.event("L1", "answered", "PJSIP/1001", {})
        writer.audit(uid, "card.pop", "42", {"call_id": "L1"})
        writer.put("presence", "", user_id=uid, presence="on_call")
        for n in range(50):
            writer.put("upsert", f"C{n}", caller="7903000000" + str(n % 10), state="queued", queued_at=1.7e9)
            writer.event(f"C{n}", "queued", None, {"queue": "support"})
        await writer.flush()
        with db.session() as s:
            call = s.get(Call, "L1")
            assert call is not None
            assert call.state == "connected"
            assert call.operator_id == uid
            assert call.caller == "79161234567"
            assert call.answered_at is not None
            assert s.scalar(select(func.count()).select_from(CallEventRow)) == 52
            assert s.scalar(select(func.count()).select_from(Call)) == 51
            assert s.scalar(select(AuditLog.subject).where(AuditLog.action == "card.pop")) == "42"
            user = s.get(User, uid)
            assert user is not None
            assert user.presence == "on_call"
        db.dispose()
    finally:
        drop_pg_database(url)
