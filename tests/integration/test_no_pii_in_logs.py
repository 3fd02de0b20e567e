"""Personal data never reaches the logs: searches, card views and pops log ids, not names or numbers."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from billing_adapter import demo
from telephony.events import CallOffered, CallQueued
from tests.apphelpers import add_user, login, make_container
from workstation.adapters import make_billing
from workstation.app import create_app
from workstation.settings import Settings


@pytest.fixture
def app(tmp_path: Path) -> Any:
    path = tmp_path / "billing.db"
    demo.generate_sqlite(path, demo.DemoSpec(subscribers=200, seed=3))
    url = f"sqlite:///{path}"
    container = make_container(
        tmp_path, billing=make_billing(Settings(data_dir=tmp_path, billing_url=url)), billing_url=url
    )
    add_user(container, "op1", interface="PJSIP/1001", extension="1001")
    return container, create_app(container)


def test_search_card_and_pop_leave_no_name_or_number_in_the_logs(app: Any, caplog: Any) -> None:
    container, application = app
    msisdn = str(demo.msisdn_of(np.array([11]))[0])
    caplog.set_level(logging.DEBUG)
    with TestClient(application) as client:
        login(client, "op1")
        lookup = client.portal.call(container.billing.lookup_caller, "+" + msisdn)
        card = lookup.card
        assert card is not None
        surname = card.name.split()[0]
        assert client.get("/api/subscribers/search", params={"q": surname}).status_code == 200
        assert client.get("/api/subscribers/search", params={"q": msisdn}).status_code == 200
        assert (
            client.get(
                f"/api/subscribers/{card.subscriber_id}/card", params={"reason": "callback"}
            ).status_code
            == 200
        )
        assert client.get(f"/api/subscribers/{card.subscriber_id}/charges").status_code == 200
        calls = container.calls
        now = time.time()
        client.portal.call(calls.handle, CallQueued("P1", now, caller="+" + msisdn, queue="support"))
        client.portal.call(calls.handle, CallOffered("P1", now, caller="+" + msisdn, agent="PJSIP/1001"))
        client.portal.call(calls.writer.flush)
    # the server side's records (the test's own HTTP client logs its request URLs: not the server's)
    server = [r for r in caplog.records if not r.name.startswith("httpx")]
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in server)
    assert "GET /api/subscribers/search 200" in text  # the access log is there, without the query
    for secret in (card.name, surname, msisdn, msisdn[1:], card.first_name):
        assert secret not in text, f"personal data {secret!r} found in the logs"


def test_the_suite_wide_log_search_finds_a_demo_subscribers_data(tmp_path: Path) -> None:
    """The guard every run ends with (tests/pii_guard.py) does find personal data when a line has it."""
    from tests.pii_guard import find_personal_data

    path = tmp_path / "billing.db"
    demo.generate_sqlite(path, demo.DemoSpec(subscribers=30, seed=11))
    billing = make_billing(Settings(data_dir=tmp_path, billing_url=f"sqlite:///{path}"))
    msisdn = str(demo.msisdn_of(np.array([4]))[0])

    async def card_of() -> Any:
        return (await billing.lookup_caller("+" + msisdn)).card

    import asyncio

    card = asyncio.run(card_of())
    log = tmp_path / "log.txt"
    log.write_text(
        "workstation.calls INFO call 1 rings agent PJSIP/1001\n"
        f"workstation.x WARNING lookup of {msisdn} failed\n"
        f"workstation.y ERROR bad note for {card.name}\n",
        encoding="utf-8",
    )
    hits = find_personal_data(log, [path])
    assert ("phone", "workstation.x") in hits
    assert ("name", "workstation.y") in hits
    assert not [h for h in hits if h[1] == "workstation.calls"]


def test_a_postgresql_error_never_prints_the_values_it_was_given(pg_server_url: str, caplog: Any) -> None:
    """A NUL in a value makes PostgreSQL refuse the statement; the error (and so any log of it) names the
    SQL, not the passport and phone beside the NUL (the engine hides parameters)."""
    from sqlalchemy.exc import DataError

    from tests.conftest import drop_pg_database, make_pg_database
    from workstation.db import Database
    from workstation.migrate import upgrade
    from workstation.models import AuditLog

    url = make_pg_database("hideparams")
    try:
        upgrade(url)
        db = Database(url)
        secret = "Паспорт 4510 123456, тел. 79161234567"
        with pytest.raises(DataError) as exc, db.session() as s:
            s.add(AuditLog(user_id=None, action="x", subject=secret, reason=secret + "\x00"))
        assert "4510 123456" not in str(exc.value)
        assert "79161234567" not in str(exc.value)
        assert "hidden" in str(exc.value).lower()
        db.dispose()
    finally:
        drop_pg_database(url)
