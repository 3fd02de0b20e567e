"""Every timestamp the API sends carries its UTC offset (issue 12, point 4).

The workstation DB on SQLite keeps no zone, so a plain ``DateTime`` column comes back naive and the browser
reads it as local time: previous calls showed shifted by the browser's offset. Every GET route of the app is
walked with real data behind it, and every ISO timestamp anywhere in the answers must end in an offset.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from billing_adapter.memory import MemoryBilling, make_card
from tests.apphelpers import add_user, login, make_container
from workstation.app import create_app
from workstation.models import Call

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(?P<zone>Z|[+-]\d{2}:?\d{2})?$")


def _timestamps(value: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in _timestamps(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in _timestamps(v, f"{path}[{i}]")]
    if isinstance(value, str) and ISO.match(value):
        return [(path, value)]
    return []


def test_every_timestamp_in_every_get_answer_carries_an_offset(tmp_path: Path) -> None:
    billing = MemoryBilling()
    billing.add(make_card("1", "79010167996", name="Смирнова Анна Петровна"))
    container = make_container(tmp_path, billing=billing)
    add_user(container, "adm", role="admin", display_name="Admin")
    op_id = add_user(container, "op1", display_name="Ольга")
    now = datetime.now(UTC).replace(microsecond=0)
    with container.db.session() as s:  # a finished call, as the history writer leaves it
        s.add(
            Call(
                id="c-1",
                caller="+79010167996",
                state="ended",
                subscriber_id="1",
                operator_id=op_id,
                queued_at=now - timedelta(minutes=5),
                answered_at=now - timedelta(minutes=4),
                ended_at=now - timedelta(minutes=1),
            )
        )
    app = create_app(container)
    with TestClient(app) as client:
        login(client, "op1")
        assert (
            client.post(
                "/api/records",
                json={
                    "note": "нет сети",
                    "topics": ["no_network"],
                    "outcome": "resolved",
                    "subscriber_id": "1",
                    "call_id": "c-1",
                    "finish": True,
                },
            ).status_code
            == 200
        )
        ticket = client.post(
            "/api/tickets",
            json={"subscriber_id": "1", "topic": "mobile_data", "note": "Не работает интернет"},
        ).json()
        login(client, "adm")
        values = {"subscriber_id": "1", "ticket_id": str(ticket["id"]), "id": "1"}
        checked: dict[str, int] = {}
        for path, ops in app.openapi()["paths"].items():  # every route the app serves, from its schema
            if "get" not in ops or not path.startswith("/api/"):
                continue
            names = re.findall(r"\{(\w+)\}", path)
            if any(n not in values for n in names):
                continue
            url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
            r = client.get(url)
            if r.status_code != 200 or "json" not in r.headers.get("content-type", ""):
                continue
            stamps = _timestamps(r.json())
            naive = [(p, v) for p, v in stamps if not ISO.match(v).group("zone")]
            assert not naive, f"GET {url}: timestamps without an offset: {naive[:5]}"
            checked[url] = len(stamps)
    # the answers the issue named are among those walked, and they carry timestamps
    assert checked.get("/api/subscribers/1/calls", 0) >= 2
    assert checked.get("/api/subscribers/1/sections", 0) >= 2
    assert checked.get(f"/api/tickets/{ticket['id']}", 0) >= 1
    assert len(checked) >= 15
