"""Plugs tickets and the knowledge base into the container (``install(container)``).

Registers the services ``kb``, ``tickets`` and ``ticket_config``, the card section ``tickets`` (open
and recently resolved tickets of the subscriber), the SLA scheduler as a background job, and a bus
listener that returns an engineer's tickets to the queue when they go offline.
"""

from __future__ import annotations

import asyncio
from typing import Any

from knowledge_base.service import KnowledgeBase
from workstation.tickets import sla
from workstation.tickets.service import TicketService


def install(container: Any) -> None:
    kb = KnowledgeBase(container.db)
    tickets = TicketService(container.db, container.billing, container.services.get("hub"))
    container.services["kb"] = kb
    container.services["tickets"] = tickets
    container.services["ticket_config"] = tickets.config

    async def tickets_section(subscriber_id: str, user: Any) -> list[dict[str, Any]]:
        return await asyncio.to_thread(tickets.for_subscriber, subscriber_id)

    container.card_sections["tickets"] = tickets_section

    async def scheduler(_container: Any) -> None:
        await sla.run_scheduler(tickets)

    container.background.append(scheduler)

    async def on_floor(_channel: str, message: dict[str, Any]) -> None:
        # presence changes are announced to supervisors as floor.changed (workstation.calls)
        if message.get("type") == "floor.changed":
            tickets.roster.invalidate()
        if message.get("type") == "floor.changed" and message.get("presence") == "offline":
            uid = message.get("user_id")
            if isinstance(uid, int):
                await sla.on_presence(tickets, uid, "offline")

    container.bus.subscribe("role.supervisor", on_floor)


def seed(container: Any) -> None:
    """Demo/first-run content: the shipped knowledge-base articles and call scripts (idempotent)."""
    from knowledge_base.seed import seed as seed_kb

    seed_kb(container.services["kb"])
