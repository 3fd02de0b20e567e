"""Reading the base without a call behind it: a reason is required, reads are limited per operator,
supervisors are alerted when reading is unusual, and the audit says why."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from billing_adapter.memory import MemoryBilling, make_card
from telephony.events import CallAnswered, CallOffered, CallQueued
from tests.apphelpers import add_user, login, make_container
from workstation.app import create_app
from workstation.models import AuditLog


@pytest.fixture
def app(tmp_path: Path) -> Any:
    billing = MemoryBilling()
    for n in range(1, 40):
        billing.add(make_card(str(n), f"7916000{n:04d}"))
    container = make_container(tmp_path, billing=billing, features=[])
    uid = add_user(container, "op1", interface="PJSIP/1001", extension="1001")
    add_user(container, "op2", interface="PJSIP/1002", extension="1002")
    add_user(container, "sup", role="supervisor")
    yield container, create_app(container), uid
    container.db.dispose()


def test_a_card_outside_a_call_needs_a_reason_which_the_audit_keeps(app: Any) -> None:
    container, application, uid = app
    calls = container.calls
    with TestClient(application) as client:
        login(client, "op1")
        r = client.get("/api/subscribers/1/card")
        assert r.status_code == 400
        assert r.json()["error_id"] == "reason_required"
        assert client.get("/api/subscribers/1/card", params={"reason": "callback"}).status_code == 200
        # in the operator's own call no reason is asked
        t = time.time()
        client.portal.call(calls.handle, CallQueued("c1", t, caller="79160000001", queue="support"))
        client.portal.call(calls.handle, CallOffered("c1", t, caller="79160000001", agent="PJSIP/1002"))
        client.portal.call(calls.handle, CallAnswered("c1", t, caller="79160000001", agent="PJSIP/1002"))
        # someone else's call is no excuse
        r = client.get("/api/subscribers/2/card", params={"call_id": "c1"})
        assert r.status_code == 400
        assert r.json()["error_id"] == "reason_required"
        client.cookies.clear()
        login(client, "op2")
        assert client.get("/api/subscribers/1/card", params={"call_id": "c1"}).status_code == 200
    with container.db.session() as s:
        views = s.scalars(select(AuditLog).where(AuditLog.action == "card.view").order_by(AuditLog.id)).all()
    assert [(v.user_id, v.reason, v.details.get("outside_call")) for v in views] == [
        (uid, "callback", True),
        (uid + 1, None, None),
    ]


def test_harvesting_cards_is_stopped_and_the_supervisor_told(app: Any) -> None:
    container, application, uid = app
    with TestClient(application) as client:
        login(client, "sup")
        with client.websocket_connect("/ws") as ws:
            ws.receive_json()
            ws.receive_json()
            client.cookies.clear()
            login(client, "op1")
            codes = [
                client.get(f"/api/subscribers/{n}/card", params={"reason": "callback"}).status_code
                for n in range(1, 36)
            ]
            assert codes[:30] == [200] * 30
            assert set(codes[30:]) == {429}
            alert = None
            for _ in range(50):
                msg = ws.receive_json()
                if msg["type"] == "audit.alert":
                    alert = msg
                    break
            assert alert is not None
            assert alert["user_id"] == uid
            assert alert["reads"] == 10
    with container.db.session() as s:
        alerts = s.scalars(select(AuditLog).where(AuditLog.action == "card.read_alert")).all()
    assert len(alerts) == 1
    assert alerts[0].user_id == uid
