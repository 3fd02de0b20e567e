"""Tickets and the knowledge base over HTTP and the websocket, on PostgreSQL and Redis: what the operator,
the engineer and the supervisor see, and the errors they get for bad input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from billing_adapter.memory import MemoryBilling, make_card
from tests.apphelpers import add_user, login
from tests.conftest import drop_pg_database, make_pg_database
from workstation.app import create_app
from workstation.bootstrap import bootstrap
from workstation.kb import feature as knowledge_base
from workstation.migrate import upgrade
from workstation.models import AuditLog
from workstation.settings import Settings
from workstation.tickets import feature as tickets
from workstation.tickets.attachments import MAX_ATTACHMENT_BYTES


@pytest.fixture
def env(tmp_path: Any, pg_server_url: str, redis_url: str, redis_prefix: str) -> Iterator[Any]:
    db_url = make_pg_database("tapi")
    billing = MemoryBilling()
    billing.add(make_card("1", "79161234567", first_name="Анна", balance=-42.5, arpu=500.0))
    upgrade(db_url)
    settings = Settings(
        data_dir=tmp_path,
        database_url=db_url,
        bus_url=redis_url,
        cache_url=redis_url,
        redis_prefix=redis_prefix,
    )
    # only this feature: other features' start-up work (training a classifier…) is not under test here
    container = bootstrap(settings, billing=billing, telephony=False, features=(tickets, knowledge_base))
    ids = {
        "op": add_user(container, "op1", display_name="Ольга"),
        "eng": add_user(container, "eng", role="tech_support", skills=["mobile_data"], group="network"),
        "sup": add_user(container, "sup", role="supervisor"),
    }
    assert container.tickets is not None
    container.tickets.config.save_setting("auto_assign", False)
    knowledge_base.seed(container)
    yield container, create_app(container), ids
    container.db.dispose()
    drop_pg_database(db_url)


class Sessions:
    """One TestClient (one event loop, as in production) acting for several signed-in users."""

    def __init__(self, client: TestClient, *usernames: str):
        self.client = client
        self.cookies = {}
        for name in usernames:
            login(client, name)
            self.cookies[name] = client.cookies.get("ws_session")
            client.cookies.clear()

    def __call__(self, username: str) -> TestClient:
        self.client.cookies.clear()
        self.client.cookies.set("ws_session", self.cookies[username])
        return self.client


def receive_until(ws: Any, type_: str, limit: int = 20) -> dict[str, Any]:
    for _ in range(limit):
        msg = ws.receive_json()
        if msg["type"] == type_:
            return msg  # type: ignore[no-any-return]
    raise AssertionError(f"no {type_} message")


def escalate(client: TestClient) -> dict[str, Any]:
    r = client.post(
        "/api/tickets", json={"subscriber_id": "1", "topic": "mobile_data", "note": "no data since 9:00"}
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_escalation_reaches_the_engineer_live_and_resolution_reaches_the_card(env: Any) -> None:
    container, app, ids = env
    with TestClient(app) as client:
        who = Sessions(client, "op1", "eng")
        with who("eng").websocket_connect("/ws") as screen, who("op1").websocket_connect("/ws") as op_screen:
            op = who("op1")
            ticket = escalate(op)
            eng = who("eng")
            pushed = receive_until(screen, "ticket.created")
            assert pushed["v"] == 1
            assert pushed["ticket"]["id"] == ticket["id"]
            assert pushed["ticket"]["note"] == "no data since 9:00"
            detail = eng.get(f"/api/tickets/{ticket['id']}").json()
            assert detail["card"]["first_name"] == "Анна"
            t = eng.post(
                f"/api/tickets/{ticket['id']}/actions/take", json={"version": ticket["version"]}
            ).json()
            t = eng.post(
                f"/api/tickets/{t['id']}/actions/resolve", json={"version": t["version"], "text": "APN reset"}
            ).json()
            assert t["state"] == "resolved"
            assert receive_until(op_screen, "ticket.updated")["ticket"]["id"] == ticket["id"]
        sections = who("op1").get("/api/subscribers/1/card", params={"reason": "callback"}).json()["sections"]
        assert [(x["id"], x["state"]) for x in sections["tickets"]] == [(ticket["id"], "resolved")]
    with container.db.session() as s:
        assert (
            "ticket.card_view"
            in s.scalars(select(AuditLog.action).where(AuditLog.user_id == ids["eng"])).all()
        )


def test_invalid_transition_and_stale_version_are_409_with_a_reason(env: Any) -> None:
    _, app, _ = env
    with TestClient(app) as client:
        who = Sessions(client, "op1", "eng")
        t = escalate(who("op1"))
        eng = who("eng")
        r = eng.post(f"/api/tickets/{t['id']}/actions/resolve", json={"version": t["version"], "text": "x"})
        assert r.status_code == 409
        assert r.json()["error_id"] == "invalid_transition"
        assert "take the ticket first" in r.json()["message"]
        assert (
            eng.post(f"/api/tickets/{t['id']}/actions/take", json={"version": t["version"]}).status_code
            == 200
        )
        r = eng.post(f"/api/tickets/{t['id']}/actions/release", json={"version": t["version"]})
        assert r.status_code == 409
        assert r.json()["error_id"] == "stale_version"
        assert eng.get(f"/api/tickets/{t['id']}").json()["state"] == "in_progress"


def test_operator_cannot_work_tickets_and_bad_notes_are_refused(env: Any) -> None:
    _, app, _ = env
    with TestClient(app) as op:
        login(op, "op1")
        t = escalate(op)
        assert op.get("/api/tickets").status_code == 403
        assert (
            op.post(f"/api/tickets/{t['id']}/actions/take", json={"version": t["version"]}).status_code == 403
        )
        r = op.post("/api/tickets", json={"subscriber_id": "1", "topic": "mobile_data", "note": " "})
        assert r.status_code == 422
        assert r.json()["error_id"] == "ticket_note_required"
        r = op.post("/api/tickets", json={"subscriber_id": "404", "topic": "mobile_data", "note": "n"})
        assert r.status_code == 404


def test_huge_or_disguised_attachments_are_refused_and_a_good_one_downloads(env: Any) -> None:
    _, app, _ = env
    with TestClient(app) as client:
        who = Sessions(client, "op1", "eng")
        t = escalate(who("op1"))
        eng = who("eng")
        big = b"%PDF-" + b"0" * MAX_ATTACHMENT_BYTES
        r = eng.post(
            f"/api/tickets/{t['id']}/attachments", files={"file": ("big.pdf", big, "application/pdf")}
        )
        assert r.status_code == 413
        assert r.json()["error_id"] == "attachment_too_large"
        r = eng.post(
            f"/api/tickets/{t['id']}/attachments",
            files={"file": ("x.png", b"<script>alert(1)</script>", "image/png")},
        )
        assert r.status_code == 415
        r = eng.post(
            f"/api/tickets/{t['id']}/attachments", files={"file": ("trace.txt", b"ok", "text/plain")}
        )
        assert r.status_code == 200
        got = eng.get(f"/api/tickets/{t['id']}/attachments/{r.json()['id']}")
        assert got.content == b"ok"
        assert got.headers["content-disposition"].startswith("attachment")
        assert [a["filename"] for a in eng.get(f"/api/tickets/{t['id']}").json()["attachments"]] == [
            "trace.txt"
        ]


def test_comment_html_is_sanitised(env: Any) -> None:
    _, app, _ = env
    with TestClient(app) as client:
        who = Sessions(client, "op1", "eng")
        t = escalate(who("op1"))
        eng = who("eng")
        c = eng.post(f"/api/tickets/{t['id']}/comments", json={"body": "<img src=x onerror=alert(1)> **ok**"})
        assert c.status_code == 200
        html = eng.get(f"/api/tickets/{t['id']}").json()["comments"][0]["body_html"]
        assert "<img" not in html
        assert "<strong>ok</strong>" in html


def test_operator_topic_panel_has_articles_and_the_filled_script(env: Any) -> None:
    _, app, _ = env
    with TestClient(app) as op:
        login(op, "op1")
        panel = op.get("/api/kb/topic/mobile_data", params={"subscriber_id": "1"}).json()
        assert panel["script"]["filled"].startswith("Анна, здравствуйте! Меня зовут Ольга")
        assert "-42,50\u00a0₽" in panel["script"]["filled"]
        assert any(a["slug"] == "mobile-data-apn" for a in panel["articles"])
        found = op.get("/api/kb/search", params={"q": "настройка apn", "lang": "ru"}).json()
        assert found["items"][0]["slug"] == "mobile-data-apn"
        assert (
            op.post("/api/kb/articles", json={"slug": "x", "title": "t", "body_md": "b"}).status_code == 403
        )


def test_supervisor_edits_scripts_articles_and_routing_in_the_ui_api(env: Any) -> None:
    _, app, _ = env
    with TestClient(app) as sup:
        login(sup, "sup")
        scripts = sup.get("/api/kb/scripts").json()
        assert "first_name" in scripts["placeholders"]
        cur = next(s for s in scripts["scripts"] if s["topic"] == "roaming" and s["lang"] == "ru")
        r = sup.put(
            "/api/kb/scripts/roaming/ru",
            json={"title": "t", "body": "{first_name} {pasport}", "version": cur["version"]},
        )
        assert r.status_code == 422
        assert r.json()["error_id"] == "unknown_placeholder"
        assert r.json()["details"]["unknown"] == ["pasport"]
        r = sup.post(
            "/api/kb/articles",
            json={
                "slug": "new-one",
                "lang": "ru",
                "title": "Новая",
                "body_md": "<script>x</script>текст",
                "topics": ["roaming"],
            },
        )
        assert r.status_code == 200
        assert "<script" not in r.json()["body_html"]
        cfg = sup.get("/api/tickets/config").json()
        routes = [
            *cfg["routes"],
            {"topic": "billing_dispute", "group": "finance", "skills": ["billing"], "base_priority": 2},
        ]
        assert sup.put("/api/tickets/config/routes", json=routes).status_code == 200
        r = sup.put(
            "/api/tickets/config/sla", json=[{"priority": 1, "first_response_min": 90, "resolution_min": 30}]
        )
        assert r.status_code == 422
        assert r.json()["error_id"] == "sla_bad_times"
        r = sup.put(
            "/api/tickets/config/settings/business_hours",
            json={"tz": "Europe/Moscow", "weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "18:00"},
        )
        assert r.status_code == 200
        assert r.json()["business_hours"]["end"] == "18:00"
        assert sup.post("/api/tickets/config/outages", json={"region": "Тверь"}).json()["outages"][0][
            "active"
        ]
        new = sup.get("/api/tickets/config").json()
        assert {
            "topic": "billing_dispute",
            "group": "finance",
            "skills": ["billing"],
            "base_priority": 2,
        } in new["routes"]
