"""Annotated dependency aliases for routes: the container's parts and features, the signed-in user, role guards.

A route names what it uses (``calls: CallsDep``, ``kb: KnowledgeBaseDep``), never the whole container.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from billing_adapter.ports import BillingFront
from telephony.ports import Telephony
from workstation import sessions
from workstation.calls.service import CallService
from workstation.calls.writer import CallWriter, is_db_unreachable
from workstation.card_reads import OffCallReads
from workstation.container import CardSection, Container
from workstation.db import Database
from workstation.errors import DomainError, Forbidden
from workstation.hub import Hub
from workstation.models import User
from workstation.session_batch import SessionBatch
from workstation.settings import Settings
from workstation.signin import SignInGuard


class NotSignedIn(DomainError):
    status = 401
    error_id = "not_signed_in"


def container_of(app: Any) -> Container:
    """The container ``create_app`` put on the app (also for the websocket route)."""
    container: Container = app.state.container
    return container


async def get_container(request: Request) -> Container:
    return container_of(request.app)


ContainerDep = Annotated[Container, Depends(get_container)]


# -- the core ----------------------------------------------------------------------------------------
async def _settings(c: ContainerDep) -> Settings:
    return c.settings


async def _db(c: ContainerDep) -> Database:
    return c.db


async def _billing(c: ContainerDep) -> BillingFront:
    return c.billing


async def _telephony(c: ContainerDep) -> Telephony | None:
    return c.telephony


async def _hub(c: ContainerDep) -> Hub:
    return c.hub


async def _calls(c: ContainerDep) -> CallService:
    return c.calls


async def _writer(c: ContainerDep) -> CallWriter:
    return c.calls.writer


async def _signin(c: ContainerDep) -> SignInGuard:
    return c.signin


async def _card_sections(c: ContainerDep) -> dict[str, CardSection]:
    return c.card_sections


async def _card_reads(c: ContainerDep) -> OffCallReads:
    return c.card_reads


SettingsDep = Annotated[Settings, Depends(_settings)]
DbDep = Annotated[Database, Depends(_db)]
BillingDep = Annotated[BillingFront, Depends(_billing)]
TelephonyDep = Annotated[Telephony | None, Depends(_telephony)]
HubDep = Annotated[Hub, Depends(_hub)]
CallsDep = Annotated[CallService, Depends(_calls)]
CallWriterDep = Annotated[CallWriter, Depends(_writer)]
SignInDep = Annotated[SignInGuard, Depends(_signin)]
CardSectionsDep = Annotated[dict[str, CardSection], Depends(_card_sections)]
CardReadsDep = Annotated[OffCallReads, Depends(_card_reads)]


# live sessions by token, for a few seconds: most requests then need no DB round-trip (and no thread hop);
# a revocation on this node drops the entry at once, elsewhere it lasts at most this long
_SESSION_TTL_S = 5.0
_session_cache: dict[tuple[int, str], tuple[float, User]] = {}
# what is not cached is asked of the DB a batch at a time, one batcher per database
_batches: weakref.WeakKeyDictionary[Database, SessionBatch] = weakref.WeakKeyDictionary()


def _batch_for(db: Database) -> SessionBatch:
    batch = _batches.get(db)
    if batch is None:
        ref = weakref.ref(db)  # the batcher must not keep its database (the key) alive

        def resolve_many(tokens: list[str]) -> dict[str, User]:
            live = ref()
            return {} if live is None else sessions.resolve_many(live, tokens)

        batch = _batches[db] = SessionBatch(resolve_many)
    return batch


def session_token(session: dict[str, Any]) -> str | None:
    sid = session.get("sid")
    return sid if isinstance(sid, str) and 20 <= len(sid) <= 100 else None


def user_from_session(container: Container, session: dict[str, Any]) -> User | None:
    """The user of this request's server-side session (None: signed out, expired, revoked, deactivated)."""
    sid = session_token(session)
    return None if sid is None else sessions.resolve(container.db, sid)


async def cached_user(container: Container, session: dict[str, Any]) -> User | None:
    sid = session_token(session)
    if sid is None:
        return None
    key = (id(container), sid)
    now = time.monotonic()
    hit = _session_cache.get(key)
    if hit is not None and now - hit[0] < _SESSION_TTL_S:
        return hit[1]
    try:
        fresh = await _batch_for(container.db).resolve(sid)
    except Exception as exc:
        if hit is not None and is_db_unreachable(exc):
            # the DB is away: a session checked before keeps working (cards, after-call work and
            # presence go through the outbox); nobody new gets in until it is back
            return hit[1]
        raise
    if fresh is None:
        _session_cache.pop(key, None)
        return None
    if len(_session_cache) > 10_000:
        _session_cache.clear()
    _session_cache[key] = (now, fresh)
    return fresh


def forget_user(user_id: int) -> None:
    """Drop a user's sessions from this node's cache (role, password or activity changed)."""
    for key in [k for k, (_, u) in _session_cache.items() if u.id == user_id]:
        _session_cache.pop(key, None)


def forget_session(sid: str) -> None:
    for key in [k for k in _session_cache if k[1] == sid]:
        _session_cache.pop(key, None)


async def current_user(request: Request, container: ContainerDep) -> User:
    user = await cached_user(container, request.session)
    if user is None:
        raise NotSignedIn("sign in first")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: str) -> Callable[..., Awaitable[User]]:
    """``Depends(require_roles("supervisor", "admin"))`` — admin always passes."""

    async def guard(user: CurrentUser) -> User:
        if user.role not in roles and user.role != "admin":
            raise Forbidden(
                f"this needs the role {' or '.join(roles)}",
                error_id="role_required",
                details={"role": user.role},
            )
        return user

    return guard


# ids at the edge: ASCII only, bounded (a "²" is a digit to str.isdigit(), an int() of it raises)
SubscriberId = Annotated[str, Path(pattern=r"^[0-9]{1,18}$", description="billing subscriber id")]
# a row id in a path: ids beyond 64 bits made the DB driver fail (a 500 instead of a 404)
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
CallId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


def saving_status(saved: bool) -> dict[str, object]:
    """The reply of an action whose history goes through the outbox: written, or kept to write later."""
    if saved:
        return {"ok": True, "saved": True, "status": "saved"}
    return {
        "ok": True,
        "saved": False,
        "status": "saving_delayed",
        "error_id": "saving_delayed",
        "message": "accepted; the history will be saved when the database is back",
    }
