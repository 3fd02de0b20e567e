"""Operator presence → the queue-member pauses the PBX must hold (the workstation is the source of truth).

``PAUSE_REASONS`` maps each presence to (paused, reason) in the Asterisk queues; ``on_call`` leaves the
membership alone (Asterisk knows the member is busy). ``stored_pauses`` reads every operator's stored
presence, so the telephony adapter can re-apply breaks and after-call work at each (re)connect: after an
Asterisk restart (static members come back unpaused), a workstation restart or a leader fail-over.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from workstation.db import Database
from workstation.models import User

PAUSE_REASONS = {
    "ready": (False, ""),
    "paused": (True, "Break"),
    "wrap_up": (True, "Wrap-up"),
    "offline": (True, "Offline"),
}


def _read(db: Database) -> dict[str, tuple[bool, str]]:
    with db.session() as s:
        rows = s.execute(
            select(User.interface, User.presence).where(User.active.is_(True), User.interface.is_not(None))
        ).all()
    return {
        r.interface: PAUSE_REASONS[r.presence] for r in rows if r.interface and r.presence in PAUSE_REASONS
    }


def presence_source(db: Database):  # type: ignore[no-untyped-def]
    """An async callable giving ``{interface: (paused, reason)}`` from the stored presence of operators."""

    async def stored_pauses() -> dict[str, tuple[bool, str]]:
        return await asyncio.to_thread(_read, db)

    return stored_pauses
