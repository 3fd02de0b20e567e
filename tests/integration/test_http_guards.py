"""Guards every route shares: same-origin writes (CSRF), NUL refused at the edge, security headers, no
public map of the API, a health check that tells outsiders nothing, a bounded number of websockets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.apphelpers import add_user, login, make_container
from workstation.api import ws as ws_api
from workstation.app import create_app
from workstation.tickets import feature as tickets_feature

SITE = "http://testserver"


@pytest.fixture
def app(tmp_path: Path) -> Any:
    container = make_container(tmp_path, features=(tickets_feature,))
    add_user(container, "op1", interface="PJSIP/1001", extension="1001")
    add_user(container, "eng", role="tech_support")
    add_user(container, "sup", role="supervisor")
    add_user(container, "ana", role="analyst")
    yield container, create_app(container)
    container.db.dispose()


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://testserver:8081"},  # another port of the same host: same-site, not same-origin
        {"Origin": "http://evil.testserver"},  # a sibling subdomain
        {"Origin": "null"},  # a sandboxed frame or a file
        {"Sec-Fetch-Site": "same-site"},  # a browser that sent no Origin
        {"Referer": "http://testserver:8081/page.html"},
    ],
)
def test_a_state_changing_request_from_another_origin_is_refused(app: Any, headers: dict[str, str]) -> None:
    _, application = app
    with TestClient(application) as client:
        login(client, "eng")
        r = client.post("/api/auth/presence", json={"presence": "paused"}, headers=headers)
        assert r.status_code == 403
        assert r.json()["error_id"] == "cross_origin_refused"
        upload = client.post(
            "/api/tickets/1/attachments",
            files={"file": ("a.txt", b"hello", "text/plain")},
            headers=headers,
        )
        assert upload.status_code == 403
        assert upload.json()["error_id"] == "cross_origin_refused"
        assert (
            client.post(
                "/api/auth/presence", json={"presence": "paused"}, headers={"Origin": SITE}
            ).status_code
            == 200
        )


def test_nul_characters_are_refused_at_the_edge(app: Any) -> None:
    _, application = app
    with TestClient(application) as client:
        login(client, "op1")
        r = client.post("/api/auth/login", json={"username": "op1\u0000", "password": "x"})
        assert r.status_code == 422
        assert r.json()["error_id"] == "nul_character"
        r = client.get("/api/subscribers/search", params={"q": "Ива\x00нов"})
        assert r.status_code == 422
        assert r.json()["error_id"] == "nul_character"


def test_pages_and_api_answers_carry_csp_and_refuse_framing(app: Any) -> None:
    _, application = app
    with TestClient(application) as client:
        for path in ("/index.html", "/js/core.js", "/api/auth/me", "/healthz"):
            r = client.get(path)
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"], path
            assert "script-src 'self'" in r.headers["content-security-policy"], path
            assert r.headers["x-frame-options"] == "DENY", path
            assert r.headers["x-content-type-options"] == "nosniff", path


def test_outsiders_get_no_map_of_the_api_and_a_bare_health_check(app: Any) -> None:
    _, application = app
    with TestClient(application) as client:
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert client.get(path).status_code == 404, path
        assert client.get("/healthz").json() == {"ok": True}
        login(client, "op1")
        assert client.get("/healthz").json() == {"ok": True}
        client.cookies.clear()
        login(client, "sup")
        detail = client.get("/healthz").json()
        assert {"bus", "billing", "telephony", "writer"} <= set(detail)


def test_an_analyst_gets_403_before_any_ticket_state_is_revealed(app: Any) -> None:
    _, application = app
    with TestClient(application) as client:
        login(client, "ana")
        for ticket in (1, 999_999):
            r = client.post(f"/api/tickets/{ticket}/actions/resolve", json={"version": 12345, "text": "x"})
            assert r.status_code == 403, r.text


def test_ids_beyond_64_bits_get_a_4xx(app: Any) -> None:
    _, application = app
    with TestClient(application) as client:
        login(client, "eng")
        r = client.get(f"/api/tickets/{2**70}")
        assert r.status_code == 422
        assert r.json()["error_id"] == "invalid_input"


def test_one_user_cannot_open_websockets_without_limit(app: Any) -> None:
    _, application = app
    with TestClient(application) as client:
        login(client, "op1")
        opened = []
        try:
            for _ in range(ws_api.MAX_SOCKETS_PER_USER):
                ws = client.websocket_connect("/ws").__enter__()
                ws.receive_json()
                opened.append(ws)
            with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/ws") as extra:
                extra.receive_json()
            assert refused.value.code == 4429
        finally:
            for ws in opened:
                ws.__exit__(None, None, None)
