"""Tabs opening faster than the node's handshake rate wait their turn, and those that would wait too long
are refused before the app sees them; the browser's retry then gets in. Real uvicorn over TCP."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.apphelpers import ServerThread, add_user, make_container
from workstation.app import create_app
from workstation.commands.core import uvicorn_options


async def test_tabs_over_the_handshake_rate_wait_or_are_refused_and_a_retry_gets_in(tmp_path: Path) -> None:
    # one handshake a second, a wait of at most 1.5 s: of six tabs at once the first starts now, the
    # second waits 1 s, the others would wait 2 s or more and are refused
    container = make_container(
        tmp_path, features=[], ws_handshakes_per_s=1.0, ws_handshake_burst=1, ws_handshake_max_wait_s=1.5
    )
    add_user(container, "op1", interface="PJSIP/1001", extension="1001")
    server = ServerThread(create_app(container), **uvicorn_options(container.settings))
    try:
        with server:
            cookie = await server.session_cookie("op1")
            firsts = await asyncio.gather(*(server.open_tab(cookie) for _ in range(6)))
            retried = await server.open_tab(cookie)  # a refused browser retries after its back-off
    finally:
        container.db.dispose()
    hellos = [f for f in firsts if isinstance(f, dict)]
    assert [h["type"] for h in hellos] == ["hello", "hello"], firsts
    assert sorted(f for f in firsts if not isinstance(f, dict)) == [403] * 4
    assert isinstance(retried, dict)
    assert retried["type"] == "hello"
