"""The request-record tests run on SQLite and on a real PostgreSQL (migrated with Alembic head)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from billing_adapter.memory import MemoryBilling, make_card
from tests.apphelpers import add_user, make_container
from tests.conftest import drop_pg_database, make_pg_database
from tests.integration.records.env import Env
from tests.support.models import install_pretrained
from workstation.app import create_app


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Env]:
    db_url = None
    if request.param == "postgresql":
        request.getfixturevalue("pg_server_url")
        db_url = make_pg_database("records")
    install_pretrained(tmp_path / "models")
    billing = MemoryBilling()
    billing.add(make_card("1", "79161234567", balance=-35.0))
    billing.add(make_card("2", "79031112233"))
    container = make_container(tmp_path, db_url=db_url, billing=billing)
    container.records.classifier.registry.refresh()
    op1 = add_user(container, "op1", display_name="Оператор Один")
    op2 = add_user(container, "op2")
    add_user(container, "sup", role="supervisor")
    try:
        with TestClient(create_app(container)) as client:
            yield Env(container, client, op1, op2)
    finally:
        container.db.dispose()
        if db_url:
            drop_pg_database(db_url)
