"""Passwords (argon2) and users. Sessions are signed cookies (Starlette's SessionMiddleware)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from workstation.db import Database
from workstation.errors import DomainError
from workstation.models import ROLES, User

_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    db: Database,
    username: str,
    password: str,
    role: str,
    *,
    display_name: str | None = None,
    interface: str | None = None,
    extension: str | None = None,
    skills: list[str] | None = None,
    group: str | None = None,
    language: str = "ru",
) -> User:
    if role not in ROLES:
        raise DomainError(f"unknown role {role!r}; one of {', '.join(ROLES)}", error_id="bad_role")
    if len(password) < 6:
        raise DomainError("password must have at least 6 characters", error_id="weak_password")
    with db.session() as s:
        if s.scalar(select(User.id).where(User.username == username)) is not None:
            raise DomainError(f"user {username!r} already exists", error_id="user_exists", status=409)
        user = User(
            username=username,
            display_name=display_name or username,
            password_hash=hash_password(password),
            role=role,
            interface=interface,
            extension=extension,
            skills=skills or [],
            group=group,
            language=language,
        )
        s.add(user)
        s.flush()
        s.refresh(user)
        return user


def authenticate(db: Database, username: str, password: str) -> User | None:
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == username, User.active.is_(True)))
        if user is None:
            _hasher.hash("timing-equaliser")  # same cost whether or not the user exists
            return None
        return user if verify_password(user.password_hash, password) else None
