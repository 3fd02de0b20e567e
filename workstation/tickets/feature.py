"""The tickets feature: escalation to technical support, routing, SLA.

Adds the ``tickets`` card section (open and recently resolved tickets of the subscriber), the SLA
scheduler as a background job, a bus listener that returns an engineer's tickets to the queue when they
go offline, and the ``/api/tickets`` routes.
"""

from __future__ import annotations

import argparse
import asyncio
from functools import partial
from typing import Any

from workstation.api.tickets import router
from workstation.container import Container, TicketsFeature
from workstation.models import User
from workstation.tickets import sla
from workstation.tickets.service import TicketService

NAME = "tickets"
__all__ = ["NAME", "build", "register_commands", "router", "seed"]


def build(container: Container) -> None:
    tickets = TicketService(container.db, container.billing, container.hub)
    container.tickets = TicketsFeature(tickets=tickets, config=tickets.config)

    async def tickets_section(subscriber_id: str, user: User) -> list[dict[str, Any]]:
        return await asyncio.to_thread(tickets.for_subscriber, subscriber_id)

    container.card_sections["tickets"] = tickets_section
    container.background.append(partial(sla.run_scheduler, tickets))

    async def on_floor(_channel: str, message: dict[str, Any]) -> None:
        # presence changes are announced to supervisors as floor.changed (workstation.calls)
        if message.get("type") != "floor.changed":
            return
        tickets.roster.invalidate()
        uid = message.get("user_id")
        if message.get("presence") == "offline" and isinstance(uid, int):
            await sla.on_presence(tickets, uid, "offline")

    container.bus.subscribe("role.supervisor", on_floor)


def register_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Tickets have no subcommands of their own."""


def seed(container: Container) -> None:
    """Routing rules and SLA targets ship in the migrations: nothing to seed."""
