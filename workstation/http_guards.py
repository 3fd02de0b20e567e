"""ASGI guards in front of every route: body size on the stream, same-origin writes, security headers.

They are plain ASGI middleware (not ``BaseHTTPMiddleware``) so that they see the request body as it
arrives, chunk by chunk, before any route or parser buffers it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def send_error(
    send: Send,
    status: int,
    error_id: str,
    message: str,
    details: dict[str, Any] | None = None,
    retry_after: int | None = None,
    close: bool = True,
) -> None:
    """A JSON error reply in the shape of every other error (error_id, message, details). ``close``: the
    connection ends with it (the default: the body may not have been read)."""
    body = json.dumps({"error_id": error_id, "message": message, "details": details or {}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *SECURITY_HEADERS,
    ]
    if close:
        headers.append((b"connection", b"close"))
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_NUL_MARKS = (b"\x00", b"\\u0000")  # raw, and as JSON writes it


def _has_nul(data: bytes) -> bool:
    return any(mark in data for mark in _NUL_MARKS)


class BodyLimit:
    """Guards on the request stream, before any route or parser buffers it.

    Size: bodies over the limit are refused while they stream in, whatever ``Content-Length`` says
    (chunked bodies have none). Sits inside the session middleware: a request whose signed session
    names a user may send ``limit`` bytes (notes, attachments); any other request ``anonymous_limit``
    (a sign-in is a few hundred bytes), so a client that has not signed in can never make the server
    hold more than that per request.

    NUL: no text of this system holds a NUL character, and PostgreSQL refuses one in a text column
    (the refusal used to print the statement's parameters, personal data included). A NUL in the path,
    the query or a non-multipart body is refused with ``nul_character`` (multipart bodies carry binary
    attachments, stored as bytes)."""

    def __init__(self, app: ASGIApp, limit: int, anonymous_limit: int):
        self.app = app
        self.limit = limit
        self.anonymous_limit = anonymous_limit

    def _limit_for(self, scope: Scope) -> int:
        session = scope.get("session") or {}
        return self.limit if session.get("uid") or session.get("sid") else self.anonymous_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope)
        too_large: tuple[int, str, str, dict[str, Any]] = (
            413,
            "too_large",
            f"request body over {limit // 1024} KB",
            {"limit_bytes": limit},
        )
        nul: tuple[int, str, str, dict[str, Any]] = (
            422,
            "nul_character",
            "the request contains a NUL character",
            {},
        )
        if "\x00" in scope.get("path", "") or _has_nul(
            scope.get("query_string", b"").replace(b"%00", b"\x00")
        ):
            await send_error(send, *nul)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not (declared.isascii() and declared.isdigit()):
                await send_error(send, 400, "bad_content_length", "Content-Length is not a number")
                return
            if int(declared) > limit:
                await send_error(send, *too_large)
                return
        scan = not (_header(scope, b"content-type") or "").lower().startswith("multipart/")
        received = 0
        tail = b""
        refusal: tuple[int, str, str, dict[str, Any]] | None = None
        started = False

        async def guarded_receive() -> Message:
            nonlocal received, refusal, tail
            if refusal is not None:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    refusal = too_large
                elif scan and _has_nul(tail + chunk):
                    refusal = nul
                tail = chunk[-8:]
                if refusal is not None:  # the route sees a disconnect; nothing more is read
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refusal is not None:
                return  # whatever the route answers to the cut body, the client gets the refusal below
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception:
            if refusal is None or started:
                raise
        if refusal is not None and not started:
            await send_error(send, *refusal)


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class SameOrigin:
    """CSRF defence: a state-changing request made by a browser must come from this site's own pages.

    ``Origin`` (sent by browsers on every cross-origin and same-origin POST, multipart forms included)
    must equal this server's origin or one of ``allowed_origins``; without it, ``Sec-Fetch-Site`` must
    say same-origin and ``Referer``, when present, must be ours. A page on another port of the same host
    or on a sibling subdomain is *same-site* but not *same-origin*: refused. Clients that are not
    browsers (the CLI, scripts) send none of these headers and pass; they have no ambient cookies
    to abuse."""

    def __init__(self, app: ASGIApp, allowed_origins: tuple[str, ...] = ()):
        self.app = app
        self.allowed = {o.rstrip("/").lower() for o in allowed_origins}

    def _ours(self, scope: Scope, origin: str) -> bool:
        host = _header(scope, b"host") or ""
        scheme = "https" if scope.get("scheme") == "https" else "http"
        forwarded = _header(scope, b"x-forwarded-proto")
        own = {f"{scheme}://{host}".lower()}
        if forwarded:
            own.add(f"{forwarded.split(',')[0].strip()}://{host}".lower())
        return origin.rstrip("/").lower() in own | self.allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") in UNSAFE_METHODS:
            origin = _header(scope, b"origin")
            fetch_site = _header(scope, b"sec-fetch-site")
            referer = _header(scope, b"referer")
            refused = False
            if origin is not None:
                refused = origin == "null" or not self._ours(scope, origin)
            elif fetch_site is not None and fetch_site not in ("same-origin", "none"):
                refused = True
            elif referer:
                refused = not self._ours(scope, _origin_of(referer))
            if refused:
                await send_error(
                    send,
                    403,
                    "cross_origin_refused",
                    "this request did not come from the workstation's own pages",
                )
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """CSP, no framing, no MIME sniffing on every HTTP answer (pages, scripts, API)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    h for h in SECURITY_HEADERS if h[0] not in names
                ]
            await send(message)

        await self.app(scope, receive, with_headers)
