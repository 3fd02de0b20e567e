"""Callbacks: create one when an operator promises to call back, list the due and overdue ones, remind the
operator when one falls due (a websocket message to their screens), and close them.

A callback carries the subscriber's card id and number and the request record it came from, so the
reminder opens the right card and dials the right number. Notes are personal data: they are shown to the
operator who promised and to supervisors, and never logged.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from billing_adapter.formats import display_number
from billing_adapter.phones import try_normalise
from workstation.callbacks.models import Callback
from workstation.db import Database, utcnow
from workstation.errors import DomainError, Forbidden, NotFound
from workstation.models import User

log = logging.getLogger(__name__)

MAX_NOTE = 500
MAX_AHEAD = timedelta(days=90)
PAST_GRACE = timedelta(minutes=5)  # a time typed a little late ("now") is still accepted
SUPERVISING = ("supervisor", "admin")


def payload(cb: Callback, operator_name: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    return {
        "id": cb.id,
        "operator_id": cb.operator_id,
        "operator_name": operator_name,
        "subscriber_id": cb.subscriber_id,
        "msisdn": cb.msisdn,
        "msisdn_display": display_number(cb.msisdn),
        "call_id": cb.call_id,
        "record_id": cb.record_id,
        "due_at": cb.due_at.isoformat(),
        "note": cb.note,
        "state": cb.state,
        "due": cb.state == "open" and cb.due_at <= now,
        "overdue": cb.state == "open" and cb.due_at <= now - timedelta(minutes=15),
        "created_at": cb.created_at.isoformat(),
        "done_at": cb.done_at.isoformat() if cb.done_at else None,
    }


class CallbackService:
    def __init__(self, db: Database, hub: Any, remind_every_s: float = 15.0):
        self.db = db
        self.hub = hub
        self.remind_every_s = remind_every_s

    # ---- create / close ------------------------------------------------------------------------
    def create(
        self,
        user: User,
        due_at: datetime,
        subscriber_id: str | None = None,
        msisdn: str | None = None,
        note: str = "",
        record_id: int | None = None,
        call_id: str | None = None,
    ) -> dict[str, Any]:
        """A callback the operator promised; the time must be ahead (at most 90 days) and the number real."""
        if due_at.tzinfo is None:
            raise DomainError(
                "the time needs its zone (an ISO time with an offset)", error_id="callback_no_zone"
            )
        now = utcnow()
        if due_at < now - PAST_GRACE:
            raise DomainError("the callback time is in the past", error_id="callback_in_past")
        if due_at > now + MAX_AHEAD:
            raise DomainError("a callback at most 90 days ahead", error_id="callback_too_far")
        number = try_normalise(msisdn) if msisdn else None
        if msisdn and number is None:
            raise DomainError("not a phone number to call back", error_id="bad_number")
        if not subscriber_id and not number:
            raise DomainError("a callback needs the subscriber or a number", error_id="callback_no_target")
        if len(note) > MAX_NOTE:
            raise DomainError(
                f"the note is longer than {MAX_NOTE} characters",
                error_id="text_too_long",
                details={"max": MAX_NOTE},
            )
        with self.db.session() as s:
            cb = Callback(
                operator_id=user.id,
                subscriber_id=subscriber_id,
                msisdn=number,
                call_id=call_id,
                record_id=record_id,
                due_at=due_at.astimezone(UTC),
                note=note.strip(),
                state="open",
            )
            s.add(cb)
            s.flush()
            return payload(cb, user.display_name, now)

    def close(self, user: User, callback_id: int, state: str) -> dict[str, Any]:
        """Mark a callback done (the call was made) or cancelled."""
        if state not in ("done", "cancelled"):
            raise DomainError("a callback is closed as done or cancelled", error_id="bad_callback_state")
        with self.db.session() as s:
            cb = s.get(Callback, callback_id, with_for_update=True)
            if cb is None:
                raise NotFound("no such callback", error_id="callback_not_found")
            if cb.operator_id != user.id and user.role not in SUPERVISING:
                raise Forbidden("this callback belongs to another operator", error_id="not_your_callback")
            if cb.state == "open":
                cb.state, cb.done_at = state, utcnow()
            return payload(cb)

    # ---- lists -------------------------------------------------------------------------------------
    def for_operator(self, user: User, days_ahead: int = 7) -> list[dict[str, Any]]:
        """The operator's open callbacks up to ``days_ahead`` days ahead, the most overdue first."""
        now = utcnow()
        with self.db.session() as s:
            rows = s.scalars(
                select(Callback)
                .where(
                    Callback.operator_id == user.id,
                    Callback.state == "open",
                    Callback.due_at <= now + timedelta(days=days_ahead),
                )
                .order_by(Callback.due_at)
            ).all()
            return [payload(cb, user.display_name, now) for cb in rows]

    def for_supervisor(self, only_due: bool = True) -> list[dict[str, Any]]:
        """Every operator's open callbacks (only the due and overdue ones unless ``only_due`` is False)."""
        now = utcnow()
        with self.db.session() as s:
            q = (
                select(Callback, User.display_name)
                .join(User, User.id == Callback.operator_id)
                .where(Callback.state == "open")
            )
            if only_due:
                q = q.where(Callback.due_at <= now)
            rows = s.execute(q.order_by(Callback.due_at).limit(500)).all()
            return [payload(cb, name, now) for cb, name in rows]

    # ---- reminders -----------------------------------------------------------------------------
    def _fall_due(self) -> list[dict[str, Any]]:
        """Open callbacks that fell due and were not reminded yet: mark them reminded and return them."""
        now = utcnow()
        with self.db.session() as s:
            rows = s.scalars(
                select(Callback)
                .where(Callback.state == "open", Callback.due_at <= now, Callback.reminded_at.is_(None))
                .order_by(Callback.due_at)
                .limit(200)
            ).all()
            if rows:
                s.execute(
                    update(Callback).where(Callback.id.in_([r.id for r in rows])).values(reminded_at=now)
                )
            return [payload(cb, None, now) for cb in rows]

    async def remind_due(self) -> int:
        """Send each callback that fell due to its operator's screens; returns how many were sent."""
        due = await asyncio.to_thread(self._fall_due)
        for cb in due:
            await self.hub.send_to_user(cb["operator_id"], {"type": "callback.due", "callback": cb})
        if due:
            await self.hub.send_to_role("supervisor", {"type": "callbacks.changed"})
        return len(due)

    async def run(self, _container: Any = None) -> None:
        """Background job: look for callbacks that fell due every ``remind_every_s`` seconds."""
        while True:
            try:
                await self.remind_due()
            except Exception:
                log.exception("callbacks: reminding failed")
            await asyncio.sleep(self.remind_every_s)
