"""The FastAPI app: routes, the websocket, the static UI, and the lifespan that starts the adapters."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from workstation import audit, runtime, shutdown
from workstation.api.core import CORE_ROUTERS
from workstation.api.deps import cached_user
from workstation.calls.writer import is_db_unreachable
from workstation.container import Container
from workstation.errors import USER_ERRORS, as_domain_error
from workstation.http_guards import (
    ASGIApp,
    BodyLimit,
    Message,
    Receive,
    SameOrigin,
    Scope,
    SecurityHeaders,
    Send,
)
from workstation.signin_gate import SignInGate
from workstation.tab_pacer import PacedTabs, TabPacer

log = logging.getLogger(__name__)
access = logging.getLogger("workstation.access")

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
MAX_BODY = 12 * 1024 * 1024  # a signed-in user's request (a long note, an attachment)
MAX_ANONYMOUS_BODY = 64 * 1024  # anyone else's (a sign-in is a few hundred bytes)


def _secret_key(container: Container) -> str:
    s = container.settings
    if s.secret_key is not None:
        return s.secret_key.get_secret_value()
    path = s.data_dir / "session.key"  # embedded demo: generated once, kept beside the data
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _lifespan(container: Container) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start the bus, the billing listener, live calls, the AMI consumer (on the node holding the leader
    lock) and the features' background jobs; stop them in the reverse order, then run the closers."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks: list[asyncio.Task[None]] = []
        await container.bus.start()
        await _start_billing(container)
        calls = container.calls
        await calls.start()
        telephony = container.telephony
        if telephony is not None:

            async def start_consumer() -> None:
                # start() may return at once or run until stopped: never let it block the lock renewal
                tasks.append(asyncio.create_task(telephony.start(calls.handle), name="ami-consumer"))

            tasks.append(
                asyncio.create_task(
                    container.leader.run(on_acquire=start_consumer, on_lose=telephony.stop), name="ami-leader"
                )
            )
        tasks.extend(asyncio.ensure_future(job()) for job in container.background)
        container.signin.hashing.warm()
        logging.getLogger("uvicorn.error").addFilter(NO_HANDSHAKE_LINES)  # (once: addFilter dedupes)
        runtime.tune_for_pops()  # start-up heap collected and frozen before the first connection
        tasks.append(asyncio.create_task(runtime.refreeze_later(), name="gc-freeze"))
        try:
            yield
        finally:  # each step bounded: a stuck adapter is named in the log, never a hung shutdown
            await shutdown.cancel_all(tasks)
            if telephony is not None:
                await shutdown.step("telephony", telephony.stop())
                await shutdown.step("leader lock", container.leader.release())
            await shutdown.step("live calls", calls.stop())
            await shutdown.step("bus", container.bus.stop())
            for closer in reversed(container.closers):
                await shutdown.step(getattr(closer, "__qualname__", "closer"), closer())

    return lifespan


async def _start_billing(container: Container) -> None:
    """The billing front's change listener; Redis down at start-up delays it, it never stops the app."""
    try:
        await asyncio.wait_for(container.billing.start(), timeout=2.0)
    except Exception as exc:
        log.warning(
            "billing change listener not started (retried on the next lookups): %s", type(exc).__name__
        )


class _NoHandshakeLines(logging.Filter):
    """uvicorn writes three INFO lines for every tab, on the event loop: its handshake (the browser's address
    and the path: an access log with the address our own leaves out), and the websockets library's
    ``connection open`` and ``connection closed``. A floor of 2,000 tabs reconnecting wrote 6,000 lines in
    seconds beside the pops. Dropped; uvicorn's other lines (start-up, shutdown, errors) stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        msg = str(record.msg)
        return not (msg.startswith('%s - "WebSocket ') or msg in ("connection open", "connection closed"))


NO_HANDSHAKE_LINES = _NoHandshakeLines()


class AccessLog:
    """Our own access log: path without the query string, which may carry a searched name or number.
    Plain ASGI: the decorator form (``BaseHTTPMiddleware``) cost every request a task and two streams."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_seen(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_seen)
        finally:
            if access.isEnabledFor(logging.INFO):
                access.info(
                    "%s %s %s %.1f ms",
                    scope.get("method"),
                    scope.get("path"),
                    status[0],
                    (time.perf_counter() - started) * 1000,
                )


def _add_middleware(app: FastAPI, container: Container) -> None:
    # added before the session middleware, so it runs inside it: the limit knows who is signed in
    app.add_middleware(BodyLimit, limit=MAX_BODY, anonymous_limit=MAX_ANONYMOUS_BODY)
    app.add_middleware(
        SessionMiddleware,
        secret_key=_secret_key(container),
        session_cookie="ws_session",
        max_age=container.settings.session_max_age_s,
        same_site="strict",
        https_only=container.settings.cookie_secure,
    )

    app.add_middleware(AccessLog)


def _add_error_handlers(app: FastAPI) -> None:
    async def user_error(request: Request, exc: Exception) -> JSONResponse:
        """Domain errors and the lower packages' errors, mapped in ``workstation.errors``."""
        error = as_domain_error(exc)
        if error.status == 403:  # a refused attempt at data is audited like a read
            await audit.record_refusal(request, error)
        retry = error.details.get("retry_after_s")
        headers = {"Retry-After": str(retry)} if isinstance(retry, int) else None
        return JSONResponse(error.to_dict(), status_code=error.status, headers=headers)

    for cls in USER_ERRORS:
        app.add_exception_handler(cls, user_error)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # routing's own errors (no such path, wrong method) carry an error_id like every other error
        error_id = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
        return JSONResponse(
            {"error_id": error_id, "message": str(exc.detail), "details": {}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(SQLAlchemyError)
    @app.exception_handler(OverflowError)  # handled here, not re-raised: the connection stays usable
    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        # never a plain-text 500: the DB being away is a 503 the UI explains; anything else is logged
        # by type only (a DB error's text can carry bound values)
        if isinstance(exc, IntegrityError):  # e.g. a reference to a call or user that does not exist
            log.warning(
                "%s %s: the DB refused a reference (%s)", request.method, request.url.path, type(exc).__name__
            )
            return JSONResponse(
                {
                    "error_id": "invalid_reference",
                    "message": "a referenced record does not exist",
                    "details": {},
                },
                status_code=422,
            )
        if isinstance(exc, DataError | OverflowError):  # e.g. an integer beyond 64 bits reached the driver
            log.warning(
                "%s %s: the DB refused a value (%s)", request.method, request.url.path, type(exc).__name__
            )
            return JSONResponse(
                {"error_id": "invalid_value", "message": "a value is not acceptable", "details": {}},
                status_code=422,
            )
        if is_db_unreachable(exc):
            log.error(
                "%s %s: workstation DB unreachable (%s)", request.method, request.url.path, type(exc).__name__
            )
            return JSONResponse(
                {
                    "error_id": "db_unavailable",
                    "message": "the workstation database is unavailable",
                    "details": {},
                },
                status_code=503,
            )
        log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
        return JSONResponse(
            {"error_id": "internal_error", "message": "internal error", "details": {}}, status_code=500
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", [])), "msg": e.get("msg")} for e in exc.errors()]
        return JSONResponse(
            {
                "error_id": "invalid_input",
                "message": "the request is not valid",
                "details": {"errors": errors},
            },
            status_code=422,
        )


def create_app(container: Container) -> FastAPI:
    """The app around a built container: middleware, error handlers, the core and the features' routes,
    health, and the static UI."""
    # the schema and the docs are not public: they map every route for an attacker (tests read app.openapi())
    app = FastAPI(
        title="Contact-center workstation",
        lifespan=_lifespan(container),
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.container = container
    _add_middleware(app, container)
    s = container.settings
    pacer = TabPacer(s.ws_handshakes_per_s, s.ws_handshake_burst, s.ws_handshake_max_wait_s)
    _add_error_handlers(app)
    for router in CORE_ROUTERS:
        app.include_router(router)
    for feature in container.features:
        app.include_router(feature.router)

    @app.get("/healthz")
    async def health(request: Request) -> dict[str, object]:
        """Liveness for anyone (load balancers); the components' detail for supervisors and admins only
        (it names AMI errors and billing internals)."""
        user = await cached_user(container, request.session)
        if user is None or user.role not in ("supervisor", "admin"):
            return {"ok": True}
        tel = container.telephony.health() if container.telephony is not None else {"enabled": False}
        return {
            "ok": True,
            "bus": container.bus.health(),
            "telephony": tel,
            "billing": await container.billing.health(),
            "hub": {**container.hub.stats(), "handshakes": pacer.stats()},
            "writer": container.calls.writer.health(),
        }

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/index.html")

    app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    app.add_middleware(SecurityHeaders)
    # in front of everything but the origin check: a refused sign-in never reaches the app
    app.add_middleware(SignInGate, guard=container.signin, trusted_proxies=container.settings.trusted_proxies)
    app.add_middleware(PacedTabs, pacer=pacer)  # inside the origin check: a refused tab takes no turn
    app.add_middleware(SameOrigin, allowed_origins=tuple(container.settings.allowed_origins))
    return app
