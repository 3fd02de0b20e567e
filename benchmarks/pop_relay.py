"""The floor for ``screen_pop.py``: a bare relay from the ringing AMI event to the operator's websocket.

The same AMI client (``telephony.ami.AmiTelephony``, panoramisk and our normaliser) connected to the same
simulator, and the same web server stack as ``workstation serve`` (uvicorn with its options, Starlette
websockets); on a ``CallOffered`` it sends one small JSON frame to the sockets of that agent. No card, no
database, no bus, no session check: whatever our pop costs above this is the workstation's own doing, and
the ratio of the two holds on a machine whose absolute speed varies with what else runs on it.

    python benchmarks/pop_relay.py PORT AMI_PORT AMI_USER   # the secret in WORKSTATION_AMI_SECRET

Operators connect to ``ws://127.0.0.1:PORT/ws?agent=PJSIP/20000``.
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telephony.ami import AmiTelephony
from telephony.events import CallEvent, CallOffered
from workstation.commands.core import uvicorn_options
from workstation.settings import Settings


def build(ami_port: int, ami_user: str, ami_secret: str) -> Starlette:
    sockets: dict[str, set[WebSocket]] = defaultdict(set)
    telephony = AmiTelephony("127.0.0.1", ami_port, ami_user, ami_secret)

    async def on_event(ev: CallEvent) -> None:
        if isinstance(ev, CallOffered):
            frame = json.dumps({"type": "call.offered", "v": 1, "call": {"id": ev.call_id}})
            for ws in list(sockets.get(ev.agent, ())):
                await ws.send_text(frame)

    async def endpoint(ws: WebSocket) -> None:
        agent = ws.query_params.get("agent", "")
        await ws.accept()
        sockets[agent].add(ws)
        try:
            await ws.send_text('{"type": "hello", "v": 1}')
            while True:
                await ws.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            sockets[agent].discard(ws)

    async def healthz(_: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await telephony.start(on_event)
        try:
            yield
        finally:
            await telephony.stop()

    routes = [Route("/healthz", healthz), WebSocketRoute("/ws", endpoint)]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    port, ami_port, ami_user = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    app = build(ami_port, ami_user, os.environ["WORKSTATION_AMI_SECRET"])
    # the workstation's uvicorn settings (websocket compression...), so the floor's sends cost what ours do
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", **uvicorn_options(Settings()))


if __name__ == "__main__":
    main()
