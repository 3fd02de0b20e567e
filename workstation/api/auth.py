"""Sign-in, sign-out, who am I, language and presence."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from workstation import password_hash, sessions
from workstation.api.deps import (
    CallsDep,
    CurrentUser,
    DbDep,
    HubDep,
    SettingsDep,
    SignInDep,
    forget_session,
    forget_user,
    saving_status,
    session_token,
)
from workstation.auth import find_active_user
from workstation.errors import DomainError
from workstation.models import User
from workstation.signin import SignInGuard
from workstation.signin import client_address as _address_of

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Language(BaseModel):
    language: Literal["ru", "en"]


class Prefs(BaseModel):
    """The screen's remembered layout: a flat map of short keys to short values (the UI owns the keys)."""

    prefs: dict[str, str | bool | int | None] = Field(max_length=40)


class Presence(BaseModel):
    presence: Literal["ready", "paused", "offline"]


def me_payload(user: User) -> dict[str, object]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "extension": user.extension,
        "language": user.language,
        "presence": user.presence,
        "ui_prefs": user.ui_prefs or {},
    }


def client_address(request: Request, settings: Any) -> str:
    """The client's address (``workstation.signin.client_address``)."""
    return _address_of(request.scope, settings.trusted_proxies)


async def _password_ok(guard: SignInGuard, db: Any, username: str, password: str) -> User | None:
    """The user if the password is theirs: looked up only once a place in the hashing queue is held
    (a flood is shed before any DB work), checked in the hashing process."""
    async with guard.slot():
        user = await asyncio.to_thread(find_active_user, db, username)
        ok = await guard.hash(password_hash.check, user.password_hash if user else None, password)
    return user if ok else None


@router.post("/login")
async def login(
    body: Login, request: Request, guard: SignInDep, db: DbDep, settings: SettingsDep
) -> dict[str, object]:
    """Sign in: limited per user name and per address (back-off), the password checked in a process of
    its own behind a short queue, a server-side session opened (the cookie carries only its random
    token). Most refusals never get here: ``workstation.signin_gate`` answers them in front of the app."""
    address = client_address(request, settings)
    await guard.check(body.username, address)
    user = await _password_ok(guard, db, body.username, body.password)
    if user is None:
        await guard.failed(body.username, address)
        raise DomainError("wrong user name or password", error_id="bad_credentials", status=401)
    await guard.succeeded(body.username, address)
    token = await asyncio.to_thread(sessions.open_session, db, user.id, settings.session_max_age_s)
    request.session.clear()
    request.session["sid"] = token
    return me_payload(user)


@router.post("/logout")
async def logout(request: Request, db: DbDep, hub: HubDep) -> dict[str, bool]:
    """End this session on the server: the cookie is worthless from now on, its websockets close."""
    sid = session_token(request.session)
    request.session.clear()
    if sid is not None:
        await asyncio.to_thread(sessions.revoke, db, sid)
        forget_session(sid)
        hub.close_session(sid)
    return {"ok": True}


class PasswordChange(BaseModel):
    current: str = Field(min_length=1, max_length=256)
    new: str = Field(min_length=6, max_length=256)


@router.post("/password")
async def change_password(
    body: PasswordChange,
    request: Request,
    user: CurrentUser,
    guard: SignInDep,
    db: DbDep,
    hub: HubDep,
    settings: SettingsDep,
) -> dict[str, bool]:
    """A new password; every other session of the user ends at once (websockets included)."""
    address = client_address(request, settings)
    await guard.check(user.username, address)
    if await _password_ok(guard, db, user.username, body.current) is None:
        await guard.failed(user.username, address)
        raise DomainError("the current password is wrong", error_id="bad_credentials", status=401)
    sid = session_token(request.session)
    async with guard.slot():
        new_hash = await guard.hash(password_hash.hash_password, body.new)
    await asyncio.to_thread(sessions.set_password, db, user.id, body.new, sid, new_hash)
    forget_user(user.id)
    hub.close_user(user.id, keep_session=sid)
    return {"ok": True}


@router.get("/me")
async def me(user: CurrentUser) -> dict[str, object]:
    return me_payload(user)


@router.post("/language")
async def set_language(body: Language, user: CurrentUser, db: DbDep) -> dict[str, object]:
    def save() -> None:
        with db.session() as s:
            row = s.get(User, user.id)
            assert row is not None
            row.language = body.language

    await asyncio.to_thread(save)
    user.language = body.language
    return me_payload(user)


@router.post("/prefs")
async def set_prefs(body: Prefs, user: CurrentUser, db: DbDep) -> dict[str, object]:
    """Merge the given keys into the user's remembered layout (None removes a key)."""
    for key, value in body.prefs.items():
        if len(key) > 64 or (isinstance(value, str) and len(value) > 64):
            raise DomainError("a layout key or value is over 64 characters", error_id="bad_prefs")

    def save() -> dict[str, object]:
        with db.session() as s:
            row = s.get(User, user.id, with_for_update=True)  # two tabs saving at once: no lost key
            assert row is not None
            merged = {**(row.ui_prefs or {}), **body.prefs}
            kept = {k: v for k, v in merged.items() if v is not None}
            if len(kept) > 40:
                raise DomainError("at most 40 layout settings per user", error_id="bad_prefs")
            row.ui_prefs = kept
            return dict(kept)

    user.ui_prefs = await asyncio.to_thread(save)
    return me_payload(user)


@router.post("/presence")
async def setset_presence(body: Presence, user: CurrentUser, calls: CallsDep) -> dict[str, object]:
    await calls.set_presence(user.id, body.presence)
    saved = await calls.writer.flush()
    user.presence = body.presence
    return {**me_payload(user), "saving": saving_status(saved)["status"]}
