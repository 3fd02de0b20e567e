"""The sign-in's gate, in front of the whole app: a refused sign-in costs the event loop almost nothing.

Under a flood (issue 15: 32 clients guessing without pause) most sign-ins are refused, because the user
name or the address is locked or the hashing queue is full. Through the app each refusal paid the
session cookie, the access-log middleware, routing, validation and dependency injection before being
turned away. Here, as a plain ASGI middleware, it costs reading a body of at most ``MAX_SIGNIN_BODY``
bytes, one small JSON parse and the counters: no session, no DB, no hashing. What passes goes on to the
route, which checks again (the counters may have moved meanwhile) and does the work. Refusals wait the
tarpit's pause (a timer) and carry ``Retry-After``; they are counted, and logged at most every 10 s.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from workstation.http_guards import ASGIApp, Message, Receive, Scope, Send, send_error
from workstation.signin import SignInGuard, client_address

log = logging.getLogger(__name__)

LOGIN_PATH = "/api/auth/login"
MAX_SIGNIN_BODY = 8 * 1024  # a user name of 64 and a password of 256 characters, as JSON, with room
LOG_EVERY_S = 10.0


def _username(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    name = data.get("username") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


class SignInGate:
    def __init__(self, app: ASGIApp, guard: SignInGuard, trusted_proxies: Any = ()):
        self.app = app
        self.guard = guard
        self.trusted = frozenset(trusted_proxies)
        self._refused_since_log = 0
        self._last_log = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") != LOGIN_PATH:
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > MAX_SIGNIN_BODY:
                await send_error(
                    send, 413, "too_large", "request body over 8 KB", {"limit_bytes": MAX_SIGNIN_BODY}
                )
                return
            if not message.get("more_body", False):
                break
        username = _username(body)
        if username is not None:  # anything else goes to the route, whose validation explains it
            refusal = await self._refusal(username, client_address(scope, self.trusted))
            if refusal is not None:
                await self.guard.tarpit.hold()
                await self._send_refusal(send, *refusal)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refusal(self, username: str, address: str) -> tuple[int, str, str, int] | None:
        guard = self.guard
        wait = await guard.wait_s(username, address)
        if wait > 0:
            guard.refused_locked += 1
            return 429, "too_many_attempts", "too many failed sign-ins: wait and try again", int(wait) + 1
        if guard.busy():
            guard.refused_busy += 1
            return 503, "sign_in_busy", "sign-in is busy, try again in a moment", 1
        return None

    async def _send_refusal(self, send: Send, status: int, error_id: str, message: str, retry: int) -> None:
        self._refused_since_log += 1
        now = time.monotonic()
        if now - self._last_log >= LOG_EVERY_S:
            log.warning(
                "sign-in refused %d times since the last report (locked or busy): %s",
                self._refused_since_log,
                self.guard.stats(),
            )
            self._refused_since_log, self._last_log = 0, now
        await send_error(
            send, status, error_id, message, {"retry_after_s": retry}, retry_after=retry, close=False
        )
