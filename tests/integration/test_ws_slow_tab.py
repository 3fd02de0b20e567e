"""A browser tab that stops reading is given up by the server (unregistered, nothing more queued or
written for it), and the other tabs keep getting their frames, over real TCP."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

from tests.apphelpers import PASSWORD, ServerThread, add_user, make_container
from tests.support.frozen_tab import open_frozen_tab
from workstation.app import create_app


async def _cookie(url: str, username: str) -> str:
    async with httpx.AsyncClient(base_url=url) as client:
        r = await client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        r.raise_for_status()
        return f"ws_session={r.cookies['ws_session']}"


async def test_a_tab_that_stops_reading_is_dropped_and_others_still_get_frames(tmp_path: Path) -> None:
    container = make_container(tmp_path, features=[])
    op = add_user(container, "op1", interface="PJSIP/1001", extension="1001")
    sup = add_user(container, "sup", role="supervisor")
    hub = container.hub
    with ServerThread(create_app(container)) as server:
        ws_url = f"ws://127.0.0.1:{server.port}/ws"
        sup_cookie, op_cookie = await _cookie(server.url, "sup"), await _cookie(server.url, "op1")
        frozen = await open_frozen_tab(server.port, sup_cookie)  # reads nothing after the handshake
        async with websockets.connect(ws_url, additional_headers={"Cookie": op_cookie}) as fast:
            assert (await asyncio.wait_for(fast.recv(), 5)).startswith('{"type":"hello"')
            deadline = time.monotonic() + 30
            while not hub.connections_per_user(sup) and time.monotonic() < deadline:
                await asyncio.to_thread(server.call, asyncio.sleep(0))  # its registration, just after 101
            assert hub.connections_per_user(sup) == 1
            filler = {"type": "floor.update", "pad": "x" * 2048}
            while hub.connections_per_user(sup) and time.monotonic() < deadline:
                await asyncio.to_thread(server.call, hub.send_to_role("supervisor", dict(filler)))
            assert hub.connections_per_user(sup) == 0  # given up, not left registered
            await asyncio.to_thread(server.call, hub.send_to_user(op, {"type": "ticket.new", "n": 1}))
            got: Any = None
            for _ in range(5):
                got = await asyncio.wait_for(fast.recv(), 5)
                if '"ticket.new"' in got:
                    break
            assert '"ticket.new"' in got
        frozen.close()
    container.db.dispose()
