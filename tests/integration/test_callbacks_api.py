"""Callbacks over HTTP: bad times and numbers are refused with an id, nothing is saved; each operator sees
their own; a supervisor sees everyone's due ones; a reminder goes out once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from billing_adapter.memory import MemoryBilling, make_card
from tests.apphelpers import add_user, login, make_container
from workstation.app import create_app
from workstation.callbacks import feature as callbacks_feature

pytestmark = pytest.mark.integration


def test_callbacks_refuse_bad_input_and_list_per_operator(tmp_path: Path) -> None:
    billing = MemoryBilling()
    billing.add(make_card("1", "79010167996"))
    container = make_container(tmp_path, billing=billing, features=(callbacks_feature,))
    add_user(container, "op1", display_name="Ольга")
    add_user(container, "op2", display_name="Олег")
    add_user(container, "sup", role="supervisor", display_name="Светлана")
    now = datetime.now(UTC)
    with TestClient(create_app(container)) as client:
        login(client, "op1")
        cases = {
            "callback_in_past": {"due_at": (now - timedelta(hours=1)).isoformat(), "subscriber_id": "1"},
            "callback_too_far": {"due_at": (now + timedelta(days=120)).isoformat(), "subscriber_id": "1"},
            "callback_no_zone": {"due_at": "2030-01-01T10:00:00", "subscriber_id": "1"},
            "bad_number": {"due_at": (now + timedelta(hours=1)).isoformat(), "msisdn": "позвоните"},
            "callback_no_target": {"due_at": (now + timedelta(hours=1)).isoformat()},
        }
        for error_id, body in cases.items():
            r = client.post("/api/callbacks", json=body)
            assert r.status_code == 400, (error_id, r.text)
            assert r.json()["error_id"] == error_id, (error_id, r.text)
        assert client.get("/api/callbacks").json()["callbacks"] == []  # nothing was saved
        due = client.post(
            "/api/callbacks",
            json={
                "due_at": now.isoformat(),
                "subscriber_id": "1",
                "msisdn": "8 901 016-79-96",
                "note": "после шести",
            },
        ).json()
        later = client.post(
            "/api/callbacks",
            json={
                "due_at": (now + timedelta(days=2)).isoformat(),
                "subscriber_id": "1",
                "msisdn": "79010167996",
            },
        ).json()
        assert due["msisdn"] == "79010167996"
        assert due["msisdn_display"] == "+7 901 016-79-96"
        assert [c["id"] for c in client.get("/api/callbacks").json()["callbacks"]] == [due["id"], later["id"]]
        login(client, "op2")
        assert client.get("/api/callbacks").json()["callbacks"] == []
        r = client.post(f"/api/callbacks/{due['id']}/close", json={"state": "done"})
        assert r.status_code == 403
        assert r.json()["error_id"] == "not_your_callback"
        login(client, "sup")
        everyone = client.get("/api/callbacks/all").json()["callbacks"]
        assert [(c["id"], c["operator_name"], c["due"]) for c in everyone] == [(due["id"], "Ольга", True)]
        assert len(client.get("/api/callbacks/all", params={"only_due": "false"}).json()["callbacks"]) == 2
        service = container.callbacks.callbacks
        assert client.portal.call(service.remind_due) == 1
        assert client.portal.call(service.remind_due) == 0  # once
