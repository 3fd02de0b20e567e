"""The one place that builds ticket payloads for screens and pushes them through the hub.

Message types (``v: 1``): ``ticket.created`` (to role tech_support), ``ticket.assigned`` (to the
engineer), ``ticket.updated`` (to role tech_support and to the operator who raised it),
``ticket.sla_breach`` (to role supervisor).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from workstation.tickets.models import Ticket
from workstation.tickets.routing import PRIORITY_NAMES
from workstation.tickets.states import allowed_actions

log = logging.getLogger(__name__)


class Pusher(Protocol):
    async def send_to_user(self, user_id: int, message: dict[str, Any]) -> None: ...

    async def send_to_role(self, role: str, message: dict[str, Any]) -> None: ...


def _iso(v: Any) -> str | None:
    return v.isoformat() if v is not None else None


def ticket_summary(t: Ticket, names: dict[int, str] | None = None) -> dict[str, Any]:
    """What lists and live updates show (no card snapshot: that is read, and audited, per ticket)."""
    names = names or {}
    snap = t.card_snapshot or {}
    return {
        "id": t.id,
        "subscriber_id": t.subscriber_id,
        "topic": t.topic_code,
        "state": t.state,
        "priority": t.priority,
        "priority_name": PRIORITY_NAMES.get(t.priority, str(t.priority)),
        "group": t.group,
        "required_skills": list(t.required_skills or []),
        "region": t.region,
        "tariff": snap.get("tariff"),
        "note": t.note,
        "assignee_id": t.assignee_id,
        "assignee_name": names.get(t.assignee_id) if t.assignee_id else None,
        "created_by": t.created_by,
        "created_at": _iso(t.created_at),
        "updated_at": _iso(t.updated_at),
        "first_response_due": _iso(t.first_response_due),
        "resolution_due": _iso(t.resolution_due),
        "first_response_at": _iso(t.first_response_at),
        "resolved_at": _iso(t.resolved_at),
        "closed_at": _iso(t.closed_at),
        "resolution": t.resolution,
        "first_response_breached": t.first_response_breached_at is not None,
        "resolution_breached": t.resolution_breached_at is not None,
        "routing": t.routing or {},
        "reopen_count": t.reopen_count,
        "version": t.version,
        "actions": allowed_actions(t.state),
    }


class TicketNotifier:
    def __init__(self, hub: Pusher | None):
        self.hub = hub

    async def _safe(self, coro: Any) -> None:
        try:
            await coro
        except Exception:  # a push failure must not undo a saved change; screens resync on reconnect
            log.exception("ticket push failed")

    async def created(self, ticket: dict[str, Any]) -> None:
        if self.hub is None:
            return
        await self._safe(self.hub.send_to_role("tech_support", {"type": "ticket.created", "ticket": ticket}))
        if ticket.get("assignee_id"):
            await self._safe(
                self.hub.send_to_user(ticket["assignee_id"], {"type": "ticket.assigned", "ticket": ticket})
            )
        await self._safe(self.hub.send_to_role("supervisor", {"type": "ticket.created", "ticket": ticket}))

    async def updated(self, ticket: dict[str, Any], *, previous_assignee: int | None = None) -> None:
        if self.hub is None:
            return
        msg = {"type": "ticket.updated", "ticket": ticket}
        await self._safe(self.hub.send_to_role("tech_support", dict(msg)))
        await self._safe(self.hub.send_to_role("supervisor", dict(msg)))
        if ticket.get("created_by"):
            await self._safe(self.hub.send_to_user(ticket["created_by"], dict(msg)))
        if (
            ticket.get("assignee_id")
            and ticket["assignee_id"] != previous_assignee
            and ticket["state"] == "assigned"
        ):
            await self._safe(
                self.hub.send_to_user(ticket["assignee_id"], {"type": "ticket.assigned", "ticket": ticket})
            )

    async def breached(self, ticket: dict[str, Any], which: str) -> None:
        if self.hub is None:
            return
        await self._safe(
            self.hub.send_to_role(
                "supervisor", {"type": "ticket.sla_breach", "which": which, "ticket": ticket}
            )
        )
        await self._safe(self.hub.send_to_role("tech_support", {"type": "ticket.updated", "ticket": ticket}))
