"""Engineers, operators and supervisors for the ticket tests, and what a hub connection was sent."""

from __future__ import annotations

from typing import Any

from workstation.db import Database
from workstation.models import User


def add_user(
    db: Database,
    name: str,
    role: str = "tech_support",
    presence: str = "ready",
    skills: list[str] | None = None,
    group: str | None = None,
) -> User:
    with db.session() as s:
        u = User(
            username=name,
            display_name=name.title(),
            password_hash="x",
            role=role,
            presence=presence,
            skills=skills or [],
            group=group,
            language="ru",
            active=True,
        )
        s.add(u)
        s.flush()
        s.expunge(u)
        return u


def drain(conn: Any) -> list[dict[str, Any]]:
    out = []
    while not conn.queue.empty():
        out.append(conn.queue.get_nowait())
    return out
