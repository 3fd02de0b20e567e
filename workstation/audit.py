"""The audit log of personal-data access: every card view, export and re-link (who, when, what, why)."""

from __future__ import annotations

import asyncio
from typing import Any

from workstation.db import Database
from workstation.models import AuditLog


def record(
    db: Database,
    *,
    user_id: int | None,
    action: str,
    subject: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    with db.session() as s:
        s.add(AuditLog(user_id=user_id, action=action, subject=subject, reason=reason, details=details or {}))


async def record_async(db: Database, **kwargs: Any) -> None:
    """Write without blocking the event loop (screen pop hot path)."""
    await asyncio.to_thread(record, db, **kwargs)
