"""One query re-checks every open socket's session on a node: revoked, expired and deactivated ones drop
out, live ones stay, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, update

from tests.conftest import migrated_db
from workstation import sessions
from workstation.bus.memory import MemoryBus
from workstation.db import Database, utcnow
from workstation.hub import Hub
from workstation.models import User


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[Database]:
    yield from migrated_db(request, tmp_path_factory, "sessionwatch")


def users(db: Database, n: int) -> list[int]:
    rows = [
        dict(username=f"u{i}", display_name=f"U {i}", password_hash="x", role="operator", active=True)
        for i in range(n)
    ]
    with db.session() as s:
        return list(s.scalars(insert(User).returning(User.id), rows))


def test_only_live_sessions_keep_their_sockets(db: Database) -> None:
    a, b, c, d = users(db, 4)
    tokens = sessions.open_sessions(db, [a, b, c, d], 3600)
    sessions.revoke(db, tokens[1])
    with db.session() as s:
        s.execute(
            update(sessions.UserSession)
            .where(sessions.UserSession.id == sessions.token_id(tokens[2]))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        s.execute(update(User).where(User.id == d).values(active=False))
    hub = Hub(MemoryBus())
    conns = [hub.register(uid, "operator", t) for uid, t in zip([a, b, c, d], tokens, strict=True)]
    checked = hub.sessions()
    live = sessions.live_tokens(db, checked)
    assert live == {tokens[0]}
    (late,) = sessions.open_sessions(db, [a], 3600)
    newcomer = hub.register(a, "operator", late)  # connected while the query ran: not checked yet
    assert hub.close_ended(live, checked=checked) == 3
    assert [conn.close_code for conn in conns] == [None, 4401, 4401, 4401]
    assert newcomer.close_code is None  # a tab opening during the check is not taken for an ended one


def test_more_sockets_than_one_query_takes_are_all_checked(db: Database) -> None:
    ids = users(db, 1200)
    tokens = set(sessions.open_sessions(db, ids, 3600))
    assert sessions.live_tokens(db, tokens) == tokens
