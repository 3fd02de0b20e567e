"""Fixtures of the ticket tests: a migrated SQLite and PostgreSQL database (once per package and kind), emptied
before each test; a billing with three subscribers; the hub; the ticket service."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from billing_adapter.memory import MemoryBilling, make_card
from tests.conftest import emptied, migrated_database
from workstation.bus.memory import MemoryBus
from workstation.db import Database
from workstation.hub import Hub
from workstation.tickets.service import TicketService

MY_TABLES = (
    "ticket_events",
    "ticket_comments",
    "ticket_attachments",
    "tickets",
    "ticket_topic_routes",
    "ticket_sla_targets",
    "ticket_routing_settings",
    "ticket_outages",
    "audit_log",
    "users",
)


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def db_url(request: Any, tmp_path_factory: Any) -> Iterator[str]:
    yield from migrated_database(request, tmp_path_factory, "tickets")


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    with emptied(db_url, MY_TABLES) as database:
        yield database


@pytest.fixture
def billing() -> MemoryBilling:
    b = MemoryBilling()
    b.add(make_card("1", "79161234567", first_name="Иван", arpu=450.0, region="Москва"))
    b.add(make_card("2", "79161234568", first_name="Вера", arpu=3200.0, region="Москва"))
    b.add(make_card("3", "79161234569", first_name="Олег", arpu=300.0, region="Тверь"))
    return b


@pytest.fixture
def hub() -> Hub:
    return Hub(MemoryBus())


@pytest.fixture
def svc(db: Database, billing: MemoryBilling, hub: Hub) -> TicketService:
    return TicketService(db, billing, hub)
