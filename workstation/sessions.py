"""Server-side sessions: signing out, a deactivation or a password change ends them at once.

The cookie (signed by Starlette's SessionMiddleware) carries only a random session token; the DB keeps
its SHA-256 (a leaked table opens no session), the user, and when it expires or was revoked. Each
request resolves the token (cached for a few seconds per node, dropped at once on this node when a
session is revoked; other nodes and the CLI are bounded by that cache age). Open websockets of a
revoked session are closed by the hub.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from workstation.auth import hash_password
from workstation.db import Base, Database, utcnow
from workstation.errors import DomainError, NotFound
from workstation.models import User


class UserSession(Base):
    """One signed-in browser: the token's hash, its user, expiry and revocation."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: Database, user_id: int, max_age_s: int) -> str:
    """A new session for a user who just proved their password; returns the cookie's token."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with db.session() as s:
        s.add(UserSession(id=token_id(token), user_id=user_id, expires_at=now + timedelta(seconds=max_age_s)))
    return token


def open_sessions(db: Database, user_ids: list[int], max_age_s: int) -> list[str]:
    """One session per user id in one transaction (benchmarks signing in thousands of operators)."""
    tokens = [secrets.token_urlsafe(32) for _ in user_ids]
    expires = utcnow() + timedelta(seconds=max_age_s)
    with db.session() as s:
        s.add_all(
            UserSession(id=token_id(t), user_id=uid, expires_at=expires)
            for t, uid in zip(tokens, user_ids, strict=True)
        )
    return tokens


def resolve(db: Database, token: str) -> User | None:
    """The active user of a live session, or None (unknown, expired, revoked, deactivated)."""
    return resolve_many(db, [token]).get(token)


RESOLVE_CHUNK = 500  # tokens per query (SQLite's bound-parameter limit, a bounded statement)


def resolve_many(db: Database, tokens: list[str]) -> dict[str, User]:
    """The active users of those of ``tokens`` that are live sessions, by token, in one query per
    ``RESOLVE_CHUNK`` tokens: a floor of tabs reconnecting asks for hundreds at once (issue 16)."""
    with db.session() as s:
        return {token: head[0] for token, head in _live(s, tokens, User)}


def _live(s: Session, tokens: Iterable[str], *head: Any) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """``(token, the row's head columns)`` for each of ``tokens`` whose session is live: not revoked,
    not expired, its user active."""
    by_id = {token_id(t): t for t in tokens}
    ids = list(by_id)
    now = utcnow()
    for at in range(0, len(ids), RESOLVE_CHUNK):
        rows = s.execute(
            select(*head, UserSession.id, UserSession.expires_at)
            .select_from(UserSession)
            .join(User, UserSession.user_id == User.id)
            .where(
                UserSession.id.in_(ids[at : at + RESOLVE_CHUNK]),
                UserSession.revoked_at.is_(None),
                User.active.is_(True),
            )
        ).all()
        for *cols, sid, expires_at in rows:
            if expires_at.tzinfo is None:  # SQLite hands back naive UTC
                expires_at = expires_at.replace(tzinfo=now.tzinfo)
            if expires_at > now:
                yield by_id[sid], tuple(cols)


def revoke(db: Database, token: str) -> int | None:
    """End one session (sign-out); returns its user id."""
    with db.session() as s:
        row = s.get(UserSession, token_id(token))
        if row is None:
            return None
        row.revoked_at = row.revoked_at or utcnow()
        return row.user_id


def revoke_user(db: Database, user_id: int, keep: str | None = None) -> None:
    """End every session of a user (but ``keep``, the token of the request doing it, if given)."""
    with db.session() as s:
        q = update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        if keep is not None:
            q = q.where(UserSession.id != token_id(keep))
        s.execute(q.values(revoked_at=utcnow()))


def deactivate(db: Database, username: str) -> int:
    """Take a user off the system: no sign-in, every session ended. Returns the user id."""
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"no user {username!r}", error_id="user_not_found")
        user.active = False
        uid = user.id
    revoke_user(db, uid)
    return uid


def set_password(
    db: Database, user_id: int, password: str, keep: str | None = None, hashed: str | None = None
) -> None:
    """A new password; every other session of the user ends (a thief's cookie with it). ``hashed``: its
    hash, already computed (the server hashes in its hashing process)."""
    if len(password) < 6:
        raise DomainError("password must have at least 6 characters", error_id="weak_password")
    with db.session() as s:
        user = s.get(User, user_id)
        if user is None:
            raise NotFound("no such user", error_id="user_not_found")
        user.password_hash = hashed or hash_password(password)
    revoke_user(db, user_id, keep=keep)


def live_tokens(db: Database, tokens: set[str]) -> set[str]:
    """Those of ``tokens`` whose session is still live (not revoked, not expired, user active), for
    re-checking every open websocket of a node at once."""
    with db.session() as s:
        return {token for token, _ in _live(s, tokens)}
