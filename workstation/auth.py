"""Users: creating them, finding the one signing in (passwords: ``workstation.password_hash``)."""

from __future__ import annotations

from sqlalchemy import select

from workstation.db import Database
from workstation.errors import DomainError
from workstation.models import ROLES, User
from workstation.password_hash import hash_password, verify_password

__all__ = ["create_user", "find_active_user", "hash_password", "verify_password"]


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


def find_active_user(db: Database, username: str) -> User | None:
    """The user signing in, or None; the password is checked apart (``password_hash.check``, in the
    hashing process), whether or not the user exists."""
    with db.session() as s:
        return s.scalar(select(User).where(User.username == username, User.active.is_(True)))
