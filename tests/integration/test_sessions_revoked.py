"""Sessions live on the server: signing out, a password change and a deactivation end them at once,
websockets included; the cookie carries nothing but a random token."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from billing_adapter.memory import MemoryBilling, make_card
from tests.apphelpers import PASSWORD, add_user, login, make_container
from workstation import sessions
from workstation.app import create_app
from workstation.models import User


@pytest.fixture
def app(tmp_path: Path) -> Any:
    billing = MemoryBilling()
    billing.add(make_card("1", "79161234567"))
    container = make_container(tmp_path, billing=billing, features=[])
    add_user(container, "op1", interface="PJSIP/1001", extension="1001")
    add_user(container, "sup", role="supervisor")
    yield container, create_app(container)
    container.db.dispose()


def _cookie_payload(client: TestClient) -> dict[str, Any]:
    raw = client.cookies["ws_session"]
    data = raw.split(".")[0]
    return json.loads(base64.b64decode(data + "=" * (-len(data) % 4)))  # type: ignore[no-any-return]


def _use(client: TestClient, cookie: str) -> None:
    client.cookies.clear()
    client.cookies.set("ws_session", cookie)


def test_a_cookie_captured_before_logout_reads_nothing_after_it(app: Any) -> None:
    _container, application = app
    with TestClient(application) as client:
        login(client, "op1")
        captured = client.cookies["ws_session"]
        assert client.get("/api/subscribers/1/card", params={"reason": "callback"}).status_code == 200
        assert client.post("/api/auth/logout").status_code == 200
        _use(client, captured)  # the thief replays the cookie
        r = client.get("/api/subscribers/1/card", params={"reason": "callback"})
        assert r.status_code == 401
        assert r.json()["error_id"] == "not_signed_in"


def test_the_cookie_carries_no_password_hash_bits(app: Any) -> None:
    container, application = app
    with TestClient(application) as client:
        login(client, "op1")
        payload = _cookie_payload(client)
    with container.db.session() as s:
        pw_hash = s.query(User).filter_by(username="op1").one().password_hash
    assert set(payload) == {"sid"}
    for n in range(8, len(pw_hash)):
        assert pw_hash[-n:] not in json.dumps(payload)


def test_a_password_change_ends_the_other_sessions_and_their_websockets(app: Any) -> None:
    _container, application = app
    with TestClient(application) as client:
        login(client, "op1")
        mine = client.cookies["ws_session"]
        client.cookies.clear()
        login(client, "op1")
        other = client.cookies["ws_session"]
        with client.websocket_connect("/ws") as ws:
            assert ws.receive_json()["type"] == "hello"
            ws.receive_json()
            _use(client, mine)
            r = client.post("/api/auth/password", json={"current": PASSWORD, "new": "another-secret"})
            assert r.status_code == 200, r.text
            with pytest.raises(WebSocketDisconnect) as closed:  # noqa: PT012 (closed within a few frames)
                for _ in range(5):
                    ws.receive_json()
            assert closed.value.code == 4401
        assert client.get("/api/auth/me").status_code == 200  # the session that changed it goes on
        _use(client, other)
        assert client.get("/api/auth/me").status_code == 401


def test_a_deactivated_supervisors_open_websocket_stops_receiving_the_floor(app: Any) -> None:
    container, application = app
    with TestClient(application) as client:
        login(client, "sup")
        with client.websocket_connect("/ws") as ws:
            assert ws.receive_json()["type"] == "hello"
            ws.receive_json()
            sessions.deactivate(container.db, "sup")  # as `workstation users deactivate sup` does
            # the socket re-checks its session every few seconds: it is closed, not fed
            with pytest.raises(WebSocketDisconnect) as closed:  # noqa: PT012 (closed within a few frames)
                for _ in range(50):
                    ws.receive_json()
            assert closed.value.code == 4401
        assert client.get("/api/supervisor/floor").status_code == 401
