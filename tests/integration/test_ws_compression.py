"""Websocket compression as the server negotiates it: off by default (frames are small, on a LAN; the
event loop the screen pop runs on spends no time compressing them), on by the setting, over real TCP
with a client that offers permessage-deflate as browsers do."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import websockets

from tests.apphelpers import PASSWORD, ServerThread, add_user, make_container
from workstation.app import create_app
from workstation.commands.core import uvicorn_options


async def _frames_over(tmp_path: Path, **settings: bool) -> tuple[str | None, list[str]]:
    """Sign in an operator, open their tab and pop a frame; the negotiated extensions and what arrived."""
    container = make_container(tmp_path, features=[], **settings)
    op = add_user(container, "op1", interface="PJSIP/1001", extension="1001")
    with ServerThread(create_app(container), **uvicorn_options(container.settings)) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            r = await client.post("/api/auth/login", json={"username": "op1", "password": PASSWORD})
            r.raise_for_status()
        cookie = f"ws_session={r.cookies['ws_session']}"
        url = f"ws://127.0.0.1:{server.port}/ws"
        async with websockets.connect(url, additional_headers={"Cookie": cookie}) as ws:  # offers deflate
            got = [await asyncio.wait_for(ws.recv(), 5)]
            card = {"type": "ticket.new", "note": "нет интернета после смены тарифа " * 40}
            await asyncio.to_thread(server.call, container.hub.send_to_user(op, card))
            while '"ticket.new"' not in got[-1]:
                got.append(await asyncio.wait_for(ws.recv(), 5))
            extensions = ws.response.headers.get("Sec-WebSocket-Extensions")
    container.db.dispose()
    return extensions, [str(g) for g in got]


@pytest.mark.parametrize(("settings", "deflate"), [({}, False), ({"ws_compression": True}, True)])
async def test_the_server_compresses_frames_only_when_set_to(
    tmp_path: Path, settings: dict[str, bool], deflate: bool
) -> None:
    extensions, got = await _frames_over(tmp_path, **settings)
    assert ("permessage-deflate" in (extensions or "")) is deflate
    assert got[0].startswith('{"type":"hello"')
    assert "нет интернета после смены тарифа" in got[-1]  # the frame reads the same either way
