"""The websocket: authenticated, one per browser tab; pushes call and ticket events, accepts a few commands.

Client → server messages are JSON ``{"type": ...}``; allowed types depend on the role. Anything else gets an
``error`` frame with an ``error_id`` and the connection stays open. On connect the server sends ``hello``
and, for an operator with a live call, ``call.state`` so a reloaded tab shows the call at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from workstation import audit, runtime, sessions
from workstation.api.deps import cached_user, container_of, session_token
from workstation.calls.service import CallService
from workstation.container import Container
from workstation.db import Database
from workstation.hub import Connection, Hub, text_of, versioned
from workstation.models import User

log = logging.getLogger(__name__)

router = APIRouter()

MAX_CLIENT_FRAME = 16 * 1024
MAX_SOCKETS_PER_USER = 20  # tabs of one user on this node
SESSION_RECHECK_S = 5.0
SEND_TIMEOUT_S = 2.0  # a tab that cannot take a frame for this long is given up (it reconnects)
ALLOWED: dict[str, set[str]] = {
    "ping": {"*"},
    "resync": {"*"},
    "presence": {"operator", "tech_support", "supervisor"},
}


def _same_origin(ws: WebSocket) -> bool:
    origin = ws.headers.get("origin")
    if origin is None:
        return True  # non-browser clients (benchmarks, tests) send no Origin; they still need the cookie
    return urlparse(origin).netloc == ws.headers.get("host")


@router.websocket("/ws")
async def websocket(ws: WebSocket) -> None:
    container = container_of(ws.app)
    if not _same_origin(ws):
        await ws.close(code=4403, reason="cross-origin websocket refused")
        return
    user = await cached_user(container, ws.session)
    if user is None:
        await ws.close(code=4401, reason="sign in first")
        return
    hub = container.hub
    if hub.connections_per_user(user.id) >= MAX_SOCKETS_PER_USER:
        await ws.close(code=4429, reason="too many open tabs")
        return
    await ws.accept()
    calls = container.calls
    conn = hub.register(user.id, user.role, session_token(ws.session))
    runtime.WAVE.tab_opened()
    handler = asyncio.current_task()
    given_up = asyncio.Event()  # the sender gave the tab up: this handler ends too (its receive waits)

    def give_up() -> None:
        given_up.set()
        if handler is not None:
            handler.cancel()

    sender = asyncio.create_task(_send_loop(ws, conn, give_up))
    _start_session_watch(ws, container, hub)
    try:
        async with asyncio.timeout(SEND_TIMEOUT_S):
            await ws.send_json(versioned({"type": "hello", "user": {"id": user.id, "role": user.role}}))
            await _send_state(ws, calls, user.id)
        while True:
            raw = await ws.receive_text()
            reply = await _handle(raw, user, container.db, calls)
            if reply is not None:
                conn.offer(versioned(reply))
    except WebSocketDisconnect:
        pass
    except asyncio.CancelledError:
        if not given_up.is_set() or handler is None:
            raise
        handler.uncancel()  # our own cancellation: a frozen tab, unregistered below, nothing to re-raise
    except Exception as exc:
        log.info("websocket of user %s closed: %s", user.id, type(exc).__name__)
    finally:
        hub.unregister(conn)
        sender.cancel()


async def _watch_sessions(db: Database, hub: Hub) -> None:
    """Re-check the sessions of every open socket of this node every few seconds, in one query: one
    revoked on another node or by the CLI (deactivation) closes its sockets within that time. (A query
    per socket every 5 s was 100 ORM queries a second for 500 operators, on threads sharing the GIL
    with the screen pop.)"""
    while True:
        await asyncio.sleep(SESSION_RECHECK_S)
        tokens = hub.sessions()
        if not tokens:
            continue
        try:
            live = await asyncio.to_thread(sessions.live_tokens, db, tokens)
        except Exception:
            continue  # the DB is away: keep the sockets, check again later
        hub.close_ended(live, checked=tokens)


def _start_session_watch(ws: WebSocket, container: Container, hub: Hub) -> None:
    """One watcher per app, from its first socket on; stopped with the app."""
    task = getattr(ws.app.state, "session_watch", None)
    if task is not None and not task.done():
        return
    task = asyncio.create_task(_watch_sessions(container.db, hub), name="session-watch")
    ws.app.state.session_watch = task

    async def stop() -> None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    container.closers.append(stop)


async def _send_state(ws: WebSocket, calls: CallService, uid: int) -> None:
    snap = await calls.snapshot_for(uid)
    await ws.send_json(versioned(snap or {"type": "call.none"}))


async def _send_loop(ws: WebSocket, conn: Connection, give_up: Callable[[], None]) -> None:
    """The tab's one writer. A frame the socket cannot take within ``SEND_TIMEOUT_S`` (the browser
    stopped reading: its buffers are full) or a full queue (``Hub`` marks it) ends the tab: ``give_up``
    ends its handler, which unregisters it (it stayed registered while its receive waited for good)."""
    try:
        while True:
            msg = await conn.queue.get()
            async with asyncio.timeout(SEND_TIMEOUT_S):  # no task per frame (wait_for made one)
                if conn.close_code is not None:
                    await ws.close(code=conn.close_code, reason="session ended")
                    return
                if msg is None or conn.overflowed:
                    await ws.close(code=1013, reason="too slow: reconnect")
                    give_up()
                    return
                await ws.send_text(text_of(msg))
    except asyncio.CancelledError:
        raise
    except Exception:  # TimeoutError: the browser stopped reading; nothing more is queued for it
        conn.overflowed = True
        give_up()
        return


async def _handle(raw: str, user: User, db: Database, calls: CallService) -> dict[str, Any] | None:
    if len(raw) > MAX_CLIENT_FRAME:
        return _error(error_id="too_large", message=f"message over {MAX_CLIENT_FRAME} bytes")
    try:
        msg = json.loads(raw)
    except ValueError:
        return _error(error_id="bad_json", message="message is not JSON")
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        return _error(error_id="bad_message", message="message must be an object with a 'type'")
    kind = msg["type"]
    roles = ALLOWED.get(kind)
    if roles is None:
        log.warning("websocket: user %s sent unknown message type %.40r", user.id, kind)
        return _error(error_id="unknown_type", message=f"unknown message type {kind[:40]!r}")
    if "*" not in roles and user.role not in roles and user.role != "admin":
        log.warning("websocket: user %s (%s) sent %s, not allowed for the role", user.id, user.role, kind)
        await audit.record_async(
            db, user_id=user.id, action="access.denied", subject=f"ws:{kind[:40]}",
            details={"method": "WS", "refused_as": "forbidden"},
        )  # fmt: skip
        return _error(error_id="forbidden", message=f"{kind} is not allowed for role {user.role}")
    if kind == "ping":
        return {"type": "pong", "t": msg.get("t")}
    if kind == "resync":
        snap = await calls.snapshot_for(user.id)
        return snap or {"type": "call.none"}
    if kind == "presence":
        value = msg.get("presence")
        if value not in ("ready", "paused", "offline"):
            return _error(error_id="bad_presence", message="presence must be ready, paused or offline")
        await calls.set_presence(user.id, value)
        return {"type": "presence", "presence": value}
    return None


def _error(error_id: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error_id": error_id, "message": message}
