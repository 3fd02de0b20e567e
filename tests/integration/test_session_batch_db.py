"""A floor of tabs opening at once: each tab gets its own user, a revoked or deactivated session is still
refused, and their sessions were checked in a few queries, not one per tab. Real uvicorn over TCP, on
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.apphelpers import ServerThread, add_user, make_container
from tests.conftest import migrated_database
from tests.support.session_cookie import session_cookie
from workstation import sessions
from workstation.api import deps
from workstation.app import create_app
from workstation.commands.core import uvicorn_options

TABS = 40


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[str]:
    yield from migrated_database(request, tmp_path_factory, "sessionbatch")


async def test_tabs_opening_together_each_get_their_user_in_a_few_session_queries(
    tmp_path: Path, db_url: str
) -> None:
    container = make_container(tmp_path, db_url=db_url, features=[], secret_key="k" * 40)
    uids = [add_user(container, f"op{i}", interface=f"PJSIP/{1000 + i}") for i in range(TABS)]
    tokens = sessions.open_sessions(container.db, uids, max_age_s=3600)
    sessions.revoke(container.db, tokens[3])  # signed out elsewhere
    sessions.deactivate(container.db, "op5")
    server = ServerThread(create_app(container), **uvicorn_options(container.settings))
    try:
        with server:
            firsts = await asyncio.gather(
                *(server.open_tab(f"ws_session={session_cookie('k' * 40, t)}") for t in tokens)
            )
    finally:
        container.db.dispose()
    refused = {i: f for i, f in enumerate(firsts) if not isinstance(f, dict)}
    assert refused == {3: 403, 5: 403}
    hello = {i: f["user"]["id"] for i, f in enumerate(firsts) if isinstance(f, dict)}
    assert hello == {i: uid for i, uid in enumerate(uids) if i not in refused}
    queries = deps._batches[container.db].batches
    assert queries < TABS / 2, f"{queries} session queries for {TABS} tabs opening together"
