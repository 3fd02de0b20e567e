"""The app over real PostgreSQL and Redis: sign-in, websocket push per operator, bad client messages, audit."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from billing_adapter.memory import MemoryBilling, make_card
from telephony.events import CallAnswered, CallOffered, CallQueued
from tests.apphelpers import add_user, login, make_container
from tests.conftest import drop_pg_database, make_pg_database
from workstation.app import create_app
from workstation.models import AuditLog
from workstation.segments import feature as segments

A1 = "PJSIP/1001"
A2 = "PJSIP/1002"


@pytest.fixture
def app_env(tmp_path: Any, pg_server_url: str, redis_url: str, redis_prefix: str) -> Any:
    db_url = make_pg_database("push")
    billing = MemoryBilling()
    billing.add(make_card("1", "79161234567", name="Смирнова Анна Петровна", balance=-42.5))
    container = make_container(
        tmp_path,
        db_url=db_url,
        billing=billing,
        bus_url=redis_url,
        cache_url=redis_url,
        redis_prefix=redis_prefix,
        # the core and the exports' routes (an operator refused there), no feature background jobs
        features=(segments,),
    )
    u1 = add_user(container, "op1", interface=A1, extension="1001")
    u2 = add_user(container, "op2", interface=A2, extension="1002")
    add_user(container, "eng", role="tech_support")
    app = create_app(container)
    yield container, app, u1, u2
    container.db.dispose()
    drop_pg_database(db_url)


def receive_until(ws: Any, type_: str, limit: int = 20) -> dict[str, Any]:
    for _ in range(limit):
        msg = ws.receive_json()
        if msg["type"] == type_:
            return msg  # type: ignore[no-any-return]
    raise AssertionError(f"no {type_} message")


def test_websocket_refuses_a_client_that_has_not_signed_in(app_env: Any) -> None:
    _, app, _, _ = app_env
    with TestClient(app) as client:
        with pytest.raises(WebSocketDisconnect) as exc, client.websocket_connect("/ws") as ws:
            ws.receive_json()
        assert exc.value.code == 4401


def test_websocket_refuses_a_cross_origin_page(app_env: Any) -> None:
    _, app, _, _ = app_env
    with TestClient(app) as client:
        login(client, "op1")
        with (
            pytest.raises(WebSocketDisconnect) as exc,
            client.websocket_connect("/ws", headers={"origin": "http://evil.example"}) as ws,
        ):
            ws.receive_json()
        assert exc.value.code == 4403


def test_pop_reaches_every_tab_of_the_operator_and_nobody_else(app_env: Any) -> None:
    container, app, _u1, _u2 = app_env
    calls = container.calls
    with TestClient(app) as c1:
        # one app (one event loop); the cookie jar switches user between connects
        login(c1, "op2")
        other = c1.websocket_connect("/ws").__enter__()
        login(c1, "op1")
        with c1.websocket_connect("/ws") as tab_a, c1.websocket_connect("/ws") as tab_b:
            for ws in (tab_a, tab_b, other):
                assert ws.receive_json()["type"] == "hello"
                assert ws.receive_json()["type"] == "call.none"
            now = time.time()
            c1.portal.call(calls.handle, CallQueued("L1", now, caller="+79161234567", queue="support"))
            c1.portal.call(
                calls.handle, CallOffered("L1", now, caller="+79161234567", agent=A1, queue="support")
            )
            for ws in (tab_a, tab_b):
                msg = receive_until(ws, "call.offered")
                assert msg["v"] == 1
                assert msg["card"]["card"]["name"] == "Смирнова Анна Петровна"
            # the other operator only hears its own pong: no pop was queued for it
            other.send_json({"type": "ping", "t": 1})
            assert other.receive_json() == {"type": "pong", "v": 1, "t": 1}
            c1.portal.call(calls.handle, CallAnswered("L1", now + 1, caller="+79161234567", agent=A1))
            assert receive_until(tab_a, "call.answered")["call"]["state"] == "connected"
        other.__exit__(None, None, None)
        # a reloaded tab gets the live call and its card at once
        with c1.websocket_connect("/ws") as again:
            assert again.receive_json()["type"] == "hello"
            state = again.receive_json()
            assert state["type"] == "call.state"
            assert state["call"]["state"] == "connected"
            assert state["card"]["card"]["subscriber_id"] == "1"


def test_bad_client_messages_get_an_error_frame_and_the_socket_stays_open(app_env: Any) -> None:
    _, app, _, _ = app_env
    with TestClient(app) as client:
        login(client, "eng")
        with client.websocket_connect("/ws") as ws:
            ws.receive_json()
            ws.receive_json()
            ws.send_text("{not json")
            assert ws.receive_json()["error_id"] == "bad_json"
            ws.send_json(["a", "list"])
            assert ws.receive_json()["error_id"] == "bad_message"
            ws.send_json({"type": "call.offered", "call": {"id": "forged"}})
            assert ws.receive_json()["error_id"] == "unknown_type"
            ws.send_json({"type": "presence", "presence": "on_fire"})
            assert ws.receive_json()["error_id"] == "bad_presence"
            ws.send_text("x" * 20000)
            assert ws.receive_json()["error_id"] == "too_large"
            ws.send_json({"type": "ping", "t": 7})
            assert ws.receive_json()["type"] == "pong"


def test_a_message_not_allowed_for_the_role_is_refused(app_env: Any) -> None:
    container, app, _, _ = app_env
    add_user(container, "ana", role="analyst")  # refused attempts are audited
    with TestClient(app) as client:
        login(client, "ana")
        with client.websocket_connect("/ws") as ws:
            ws.receive_json()
            ws.receive_json()
            ws.send_json({"type": "presence", "presence": "ready"})
            reply = ws.receive_json()
            assert reply["type"] == "error"
            assert reply["error_id"] == "forbidden"
    with container.db.session() as s:
        denied = s.scalars(select(AuditLog).where(AuditLog.action == "access.denied")).one()
    assert denied.subject == "ws:presence"
    assert denied.details["method"] == "WS"


def test_card_view_and_drill_down_are_audited(app_env: Any) -> None:
    container, app, u1, _ = app_env
    with TestClient(app) as client:
        login(client, "op1")
        r = client.get("/api/subscribers/1/card", params={"reason": "callback"})
        assert r.status_code == 200
        assert r.json()["card"]["card"]["balance"] == -42.5
        assert client.get("/api/subscribers/1/charges").status_code == 200
        assert (
            client.get("/api/subscribers/404/card", params={"reason": "callback"}).json()["error_id"]
            == "subscriber_not_found"
        )
    with container.db.session() as s:
        actions = s.scalars(
            select(AuditLog.action).where(AuditLog.user_id == u1, AuditLog.subject == "1")
        ).all()
    assert "card.view" in actions
    assert "card.charges" in actions


def test_sections_calls_search_results_and_refusals_are_audited(app_env: Any) -> None:
    container, app, u1, _ = app_env
    with TestClient(app) as client:
        login(client, "op1")
        assert client.get("/api/subscribers/1/sections").status_code == 200
        assert client.get("/api/subscribers/1/calls").status_code == 200
        assert client.get("/api/subscribers/search", params={"q": "Смирнова"}).json()["matches"]
        assert client.get("/api/exports").status_code == 403  # an operator is not an analyst
    with container.db.session() as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.user_id == u1)).all()
    by_action = {r.action: r for r in rows}
    assert by_action["card.sections"].subject == "1"
    assert by_action["card.calls"].subject == "1"
    assert by_action["card.search"].details["shown"] == ["1"]
    denied = by_action["access.denied"]
    assert denied.subject == "/api/exports"
    assert denied.details == {"method": "GET", "refused_as": "role_required"}


def test_search_treats_injection_as_plain_text(app_env: Any) -> None:
    _, app, _, _ = app_env
    with TestClient(app) as client:
        login(client, "op1")
        r = client.get("/api/subscribers/search", params={"q": "'; DROP TABLE subscribers; --"})
        assert r.status_code == 200
        assert r.json() == {"matches": []}
        assert (
            client.get("/api/subscribers/search", params={"q": "x"}).json()["error_id"] == "query_too_short"
        )


def test_wrong_password_and_role_guard(app_env: Any) -> None:
    _, app, _, _ = app_env
    with TestClient(app) as client:
        r = client.post("/api/auth/login", json={"username": "op1", "password": "nope"})
        assert r.status_code == 401
        assert r.json()["error_id"] == "bad_credentials"
        assert client.get("/api/auth/me").status_code == 401
        login(client, "op1")
        r = client.get("/api/supervisor/floor")
        assert r.status_code == 403
        assert r.json()["error_id"] == "role_required"


def test_tabs_opening_fast_are_seen_as_a_floor_reconnecting(app_env: Any, monkeypatch: Any) -> None:
    from workstation import runtime

    _, app, _, _ = app_env
    wave = runtime.TabWave(per_s=3, quiet_s=60.0)
    monkeypatch.setattr(runtime, "WAVE", wave)
    with TestClient(app) as client:
        login(client, "op1")
        for _ in range(3):  # three tabs of the same operator within a second, one after the other
            with client.websocket_connect("/ws") as ws:
                assert ws.receive_json()["type"] == "hello"
    assert wave.active()
