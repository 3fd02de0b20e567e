"""The audit log of personal-data access: every card view, export and re-link (who, when, what, why).

Free text given as the reason passes the PII scrubber before it is stored: the audit log says why data
was read, it does not become a second copy of it."""

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
    if reason:
        from anonymizer.scrubber import scrub

        reason = scrub(reason)
    with db.session() as s:
        s.add(AuditLog(user_id=user_id, action=action, subject=subject, reason=reason, details=details or {}))


async def record_async(db: Database, **kwargs: Any) -> None:
    """Write without blocking the event loop (screen pop hot path)."""
    await asyncio.to_thread(record, db, **kwargs)


async def record_refusal(request: Any, exc: Any) -> None:
    """A refused attempt (HTTP 403): who (the session's user, if any), which path, which error."""
    from workstation.api.deps import cached_user

    container = request.app.state.container
    user = await cached_user(container, request.session) if "session" in request.scope else None
    await record_async(
        container.db,
        user_id=user.id if user is not None else None,
        action="access.denied",
        subject=request.url.path[:128],
        details={"method": request.method, "refused_as": str(getattr(exc, "error_id", ""))},
    )
