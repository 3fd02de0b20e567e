"""A PostgreSQL outage delays call history and audit rows; it never drops them, and operators go on working.

The workstation runs on a PostgreSQL of the test's own, which the test stops (``-m immediate``: connections
cut, as a crash looks) and starts again on the same port.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from billing_adapter.memory import MemoryBilling, make_card
from telephony.events import CallAbandoned, CallAnswered, CallEnded, CallOffered, CallQueued
from tests.apphelpers import add_user, login, make_container
from tests.own_services import OwnPostgres
from workstation.app import create_app
from workstation.models import AuditLog, Call

AGENT = "PJSIP/1001"
CALLER = "79161234567"


@pytest.fixture
def own_pg() -> Iterator[OwnPostgres]:
    pg = OwnPostgres()
    pg.start()
    yield pg
    pg.destroy()


def test_calls_finished_and_cards_read_during_a_postgresql_outage_all_reach_history(
    tmp_path: Path, own_pg: OwnPostgres
) -> None:
    billing = MemoryBilling()
    billing.add(make_card("1", CALLER))
    container = make_container(tmp_path, db_url=own_pg.url, billing=billing, features=[])
    uid = add_user(container, "op1", interface=AGENT, extension="1001")
    calls = container.calls
    with TestClient(create_app(container)) as client:
        login(client, "op1")
        t = time.time()
        client.portal.call(calls.handle, CallQueued("before", t, caller=CALLER, queue="support"))
        client.portal.call(calls.handle, CallOffered("before", t + 1, caller=CALLER, agent=AGENT))
        client.portal.call(calls.handle, CallAnswered("before", t + 2, caller=CALLER, agent=AGENT))
        assert (
            client.get("/api/subscribers/1/card", params={"call_id": "before"}).status_code == 200
        )  # user checked before the outage
        assert client.portal.call(calls.writer.flush) is True

        own_pg.stop()
        # the call ends during the outage: after-call work is finished and accepted, written later
        client.portal.call(calls.handle, CallEnded("before", t + 20, agent=AGENT, hangup_by="caller"))
        r = client.post("/api/calls/before/wrapup")
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "saving_delayed"
        assert r.json()["error_id"] == "saving_delayed"
        # the operator keeps working: the next call pops, is answered, ends and is finished
        for n in range(5):
            cid = f"during{n}"
            client.portal.call(calls.handle, CallQueued(cid, t + 30 + n, caller=CALLER, queue="support"))
            client.portal.call(calls.handle, CallOffered(cid, t + 31 + n, caller=CALLER, agent=AGENT))
            client.portal.call(calls.handle, CallAnswered(cid, t + 32 + n, caller=CALLER, agent=AGENT))
            card = client.get("/api/subscribers/1/card", params={"call_id": cid})
            assert card.status_code == 200, card.text
            client.portal.call(calls.handle, CallEnded(cid, t + 40 + n, agent=AGENT, hangup_by="agent"))
            assert client.post(f"/api/calls/{cid}/wrapup").status_code == 202
        client.portal.call(calls.handle, CallQueued("gone", t + 50, caller=CALLER, queue="support"))
        client.portal.call(calls.handle, CallAbandoned("gone", t + 55, caller=CALLER, wait_s=5))
        assert calls.writer.health()["saving_delayed"] is True
        assert calls.writer.health()["pending"] > 0

        own_pg.start()
        client.portal.call(calls.writer.wait_saved)
        assert calls.writer.health()["pending"] == 0

    with container.db.session() as s:
        rows = {c.id: c for c in s.scalars(select(Call))}
        audits = s.scalars(select(AuditLog)).all()
    assert rows["before"].state == "ended"
    assert rows["before"].wrapup_done_at is not None
    for n in range(5):
        row = rows[f"during{n}"]
        assert (row.state, row.operator_id) == ("ended", uid), n
        assert row.answered_at is not None
        assert row.ended_at is not None
        assert row.wrapup_done_at is not None
    assert rows["gone"].state == "abandoned"
    views = [a for a in audits if a.action == "card.view"]
    pops = [a for a in audits if a.action == "card.pop"]
    assert len(views) == 6
    assert {a.details.get("call_id") for a in views} >= {f"during{n}" for n in range(5)}
    assert len(pops) == 6
    container.db.dispose()
