"""The SLA scheduler: escalates breaches to supervisors (once each) and returns the tickets of
engineers who went offline to the queue.

A breach is a first response or a resolution past its due time; the resolution clock does not run
while the ticket waits for the subscriber (its due time moves on by the time waited). Escalating one sets its
``*_breached_at`` mark and raises the ticket's priority one step in the same version-guarded
update, so with several server nodes sweeping at once each breach is escalated exactly once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm.exc import StaleDataError

from workstation.db import utcnow
from workstation.models import User
from workstation.tickets.models import Ticket, TicketEvent
from workstation.tickets.service import TicketService
from workstation.tickets.states import HELD_STATES, OPEN_STATES

log = logging.getLogger(__name__)
SWEEP_INTERVAL_S = 30.0


def find_breaches(svc: TicketService, now: datetime | None = None) -> list[tuple[dict[str, Any], str]]:
    """Escalate every unescalated breach; returns (ticket summary, "first_response" | "resolution")."""
    now = now or utcnow()
    out: list[tuple[dict[str, Any], str]] = []
    with svc.db.session() as s:
        ids = s.scalars(
            select(Ticket.id)
            .where(
                Ticket.state.in_(OPEN_STATES),
                or_(
                    (Ticket.first_response_at.is_(None))
                    & (Ticket.first_response_due < now)
                    & (Ticket.first_response_breached_at.is_(None)),
                    (Ticket.resolution_due < now)
                    & (Ticket.resolution_breached_at.is_(None))
                    & (Ticket.state != "waiting"),
                ),
            )
            .order_by(Ticket.id)
            .limit(500)
        ).all()
    for tid in ids:
        try:
            with svc.db.session() as s:
                t = s.get(Ticket, tid)
                if t is None or t.state not in OPEN_STATES:
                    continue
                which = []
                if (
                    t.first_response_at is None
                    and t.first_response_due
                    and t.first_response_due < now
                    and t.first_response_breached_at is None
                ):
                    t.first_response_breached_at = now
                    which.append("first_response")
                if (
                    t.resolution_due
                    and t.resolution_due < now
                    and t.resolution_breached_at is None
                    and t.state != "waiting"
                ):
                    t.resolution_breached_at = now
                    which.append("resolution")
                if not which:
                    continue
                before = t.priority
                t.priority = max(1, t.priority - 1)
                t.updated_at = now
                s.flush()
                s.add(
                    TicketEvent(
                        ticket_id=t.id,
                        kind="sla_breach",
                        data={"which": which, "priority_from": before, "priority_to": t.priority},
                    )
                )
                summary = svc._summary(s, t)
            out.extend((summary, w) for w in which)
        except StaleDataError:
            continue  # changed meanwhile (or another node escalated it): the next sweep looks again
    return out


def return_offline_tickets(svc: TicketService, user_id: int | None = None) -> list[dict[str, Any]]:
    """Put the tickets held by offline engineers (or by ``user_id``) back in the queue."""
    out = []
    with svc.db.session() as s:
        q = (
            select(Ticket.id, Ticket.version)
            .join(User, User.id == Ticket.assignee_id)
            .where(Ticket.state.in_(HELD_STATES))
        )
        q = (
            q.where(User.id == user_id)
            if user_id is not None
            else q.where(or_(User.presence == "offline", User.active.is_(False)))
        )
        rows = s.execute(q).all()
    for tid, version in rows:
        try:
            with svc.db.session() as s:
                t = s.get(Ticket, tid)
                if t is None or t.version != version or t.state not in HELD_STATES:
                    continue
                frm, who = t.state, t.assignee_id
                t.state, t.assignee_id, t.updated_at = "new", None, utcnow()
                s.flush()
                s.add(
                    TicketEvent(
                        ticket_id=t.id,
                        kind="returned_to_queue",
                        from_state=frm,
                        to_state="new",
                        data={"assignee_id": who, "reason": "engineer offline"},
                    )
                )
                out.append(svc._summary(s, t))
        except StaleDataError:
            continue
    return out


async def on_presence(svc: TicketService, user_id: int, presence: str) -> int:
    """Call when an engineer's presence changes; going offline returns their tickets to the queue."""
    if presence != "offline":
        return 0
    returned = await asyncio.to_thread(return_offline_tickets, svc, user_id)
    for summary in returned:
        await svc.notifier.updated(summary)
    return len(returned)


async def sweep_once(svc: TicketService, now: datetime | None = None) -> dict[str, int]:
    breaches = await asyncio.to_thread(find_breaches, svc, now)
    for summary, which in breaches:
        await svc.notifier.breached(summary, which)
    returned = await asyncio.to_thread(return_offline_tickets, svc)
    for summary in returned:
        await svc.notifier.updated(summary)
    return {"breaches": len(breaches), "returned": len(returned)}


async def run_scheduler(svc: TicketService, interval_s: float = SWEEP_INTERVAL_S) -> None:
    """Sweep forever (started by the app as a background job)."""
    while True:
        try:
            result = await sweep_once(svc)
            if result["breaches"] or result["returned"]:
                log.info("sla sweep: %(breaches)d breaches escalated, %(returned)d tickets returned", result)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sla sweep failed")
        await asyncio.sleep(interval_s)
