"""A Redis outage: card pops still reach operators connected to this node, history is written whatever
the push does, and after Redis is back every tab is asked to resync.

The workstation runs on a Redis of the test's own (bus and cache), which the test kills and restarts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from billing_adapter.memory import MemoryBilling, make_card
from telephony.events import CallAnswered, CallEnded, CallOffered, CallQueued
from tests.apphelpers import add_user, login, make_container
from tests.conftest import drop_pg_database, make_pg_database
from tests.own_services import OwnRedis
from workstation.app import create_app
from workstation.models import AuditLog, Call

AGENT = "PJSIP/1001"
CALLER = "79161234567"


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    r = OwnRedis()
    r.start()
    yield r
    r.destroy()


def receive_until(ws: Any, type_: str, limit: int = 20) -> dict[str, Any]:
    for _ in range(limit):
        msg = ws.receive_json()
        if msg["type"] == type_:
            return msg  # type: ignore[no-any-return]
    raise AssertionError(f"no {type_} message")


@pytest.mark.timeout(120)
def test_with_redis_down_the_pop_arrives_and_the_call_is_in_history(
    tmp_path: Path, pg_server_url: str, own_redis: OwnRedis
) -> None:
    db_url = make_pg_database("redisout")
    billing = MemoryBilling()
    billing.add(make_card("1", CALLER))
    container = make_container(
        tmp_path, db_url=db_url, billing=billing, bus_url=own_redis.url, cache_url=own_redis.url, features=[]
    )
    uid = add_user(container, "op1", interface=AGENT, extension="1001")
    calls = container.calls
    try:
        with TestClient(create_app(container)) as client:
            login(client, "op1")
            with client.websocket_connect("/ws") as ws:
                receive_until(ws, "call.none")
                own_redis.stop()
                t = time.time()
                for n in range(3):
                    cid = f"r{n}"
                    client.portal.call(calls.handle, CallQueued(cid, t + n, caller=CALLER, queue="support"))
                    client.portal.call(calls.handle, CallOffered(cid, t + n, caller=CALLER, agent=AGENT))
                    offered = receive_until(ws, "call.offered")
                    assert offered["call"]["id"] == cid
                    assert offered["card"]["state"] == "found"
                    client.portal.call(calls.handle, CallAnswered(cid, t + n + 1, caller=CALLER, agent=AGENT))
                    receive_until(ws, "call.answered")
                    client.portal.call(
                        calls.handle, CallEnded(cid, t + n + 9, agent=AGENT, hangup_by="caller")
                    )
                    receive_until(ws, "call.ended")
                    assert client.post(f"/api/calls/{cid}/wrapup").json()["status"] == "saved"
                assert container.hub.stats()["bus_failures"] > 0
                own_redis.start()
                receive_until(ws, "resync", limit=50)  # the bus is back: the tab reloads its state
        with container.db.session() as s:
            rows = {c.id: c for c in s.scalars(select(Call))}
            pops = s.scalars(select(AuditLog).where(AuditLog.action == "card.pop")).all()
        for n in range(3):
            row = rows[f"r{n}"]
            assert (row.state, row.operator_id) == ("ended", uid)
            assert row.answered_at is not None
            assert row.ended_at is not None
        assert len(pops) == 3
    finally:
        container.db.dispose()
        drop_pg_database(db_url)
