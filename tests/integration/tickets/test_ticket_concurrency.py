"""Two engineers taking the same ticket at once on PostgreSQL: exactly one wins, the other gets a conflict.

The first test forces the worst interleaving with real transactions: both engineers have read the
ticket, the first one's UPDATE holds the row, the second one's UPDATE is seen waiting on that row lock
in ``pg_stat_activity``, then the first commits. The second test races the service's own "take" from
many threads.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from billing_adapter.memory import MemoryBilling, make_card
from tests.conftest import drop_pg_database, make_pg_database
from tests.integration.tickets.people import add_user
from workstation.db import Database
from workstation.errors import Conflict
from workstation.migrate import upgrade
from workstation.models import User
from workstation.tickets.models import Ticket, TicketEvent
from workstation.tickets.service import TicketService


@pytest.fixture(scope="module")
def pg(pg_server_url: str) -> Iterator[Database]:
    url = make_pg_database("race")
    upgrade(url)
    db = Database(url)
    yield db
    db.dispose()
    drop_pg_database(url)


def engineer(db: Database, name: str) -> User:
    return add_user(db, name, skills=["sms_problem"])


def backend_pid(s: Session) -> int:
    return int(s.execute(text("select pg_backend_pid()")).scalar_one())


def wait_until_blocked(db: Database, pid: int) -> None:
    """Poll (bounded) until backend ``pid`` waits on a lock: a state check, not a timing assumption."""
    for _ in range(10_000):
        with db.engine.connect() as c:
            ev = c.execute(
                text("select wait_event_type from pg_stat_activity where pid = :p"), {"p": pid}
            ).scalar()
        if ev == "Lock":
            return
    raise AssertionError("the second transaction never reached the row lock")


def test_second_of_two_concurrent_takes_conflicts_and_changes_nothing(pg: Database) -> None:
    a, b = engineer(pg, "race_a"), engineer(pg, "race_b")
    with pg.session() as s:
        t = Ticket(subscriber_id="1", topic_code="sms_problem", note="n", required_skills=["sms_problem"])
        s.add(t)
        s.flush()
        tid = t.id
    sa, sb = Session(pg.engine), Session(pg.engine)
    ta, tb = sa.get(Ticket, tid), sb.get(Ticket, tid)  # both engineers see the ticket as new, version 1
    assert ta is not None
    assert tb is not None
    assert ta.version == tb.version == 1
    ta.state, ta.assignee_id = "in_progress", a.id
    sa.flush()  # A's UPDATE … WHERE version = 1 now holds the row
    pid_b = backend_pid(sb)
    outcome: dict[str, Any] = {}

    def take_b() -> None:
        tb.state, tb.assignee_id = "in_progress", b.id
        try:
            sb.flush()
            sb.commit()
            outcome["b"] = "won"
        except StaleDataError:
            sb.rollback()
            outcome["b"] = "conflict"

    thread = threading.Thread(target=take_b)
    thread.start()
    wait_until_blocked(pg, pid_b)
    sa.commit()
    thread.join()
    sa.close()
    sb.close()
    assert outcome["b"] == "conflict"
    with pg.session() as s:
        row = s.get(Ticket, tid)
        assert row is not None
        assert row.assignee_id == a.id
        assert row.version == 2


def test_many_engineers_racing_for_each_ticket_leave_exactly_one_owner(pg: Database) -> None:
    billing = MemoryBilling()
    billing.add(make_card("1", "79161234567"))
    svc = TicketService(pg, billing)
    svc.config.save_setting("auto_assign", False)
    op = add_user(pg, "race_op", role="operator")
    engineers = [engineer(pg, f"racer{i}") for i in range(4)]
    tickets = [
        asyncio.run(svc.escalate(op, subscriber_id="1", topic="sms_problem", note="n")) for _ in range(8)
    ]
    for t in tickets:
        barrier = threading.Barrier(len(engineers))
        results: list[str] = []

        def take(
            user: User,
            ticket: dict[str, Any] = t,
            barrier: threading.Barrier = barrier,
            results: list[str] = results,
        ) -> None:
            barrier.wait()
            try:
                svc._act(user, ticket["id"], "take", ticket["version"], None, None)
                results.append("won")
            except Conflict:
                results.append("conflict")

        threads = [threading.Thread(target=take, args=(u,)) for u in engineers]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert sorted(results) == ["conflict"] * (len(engineers) - 1) + ["won"]
        with pg.session() as s:
            takes = s.scalars(
                select(TicketEvent).where(
                    TicketEvent.ticket_id == t["id"], TicketEvent.to_state == "in_progress"
                )
            ).all()
            assert len(takes) == 1
