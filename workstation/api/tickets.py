"""Ticket routes: escalate (operator), the live queue and ticket work (technical support), routing rules,
SLA targets and outages (supervisor). Thin: validate, call ``TicketService`` / ``ConfigStore``, return."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, File, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from workstation.api.deps import RowId, require_roles
from workstation.api.feature_deps import TicketConfigDep, TicketsDep
from workstation.models import User
from workstation.tickets.attachments import MAX_ATTACHMENT_BYTES, check_attachment
from workstation.tickets.states import ACTIONS

router = APIRouter(prefix="/api/tickets", tags=["tickets"])

Support = Annotated[User, Depends(require_roles("tech_support", "supervisor"))]
Raiser = Annotated[User, Depends(require_roles("operator", "tech_support", "supervisor"))]
Supervisor = Annotated[User, Depends(require_roles("supervisor"))]
TicketId = RowId


class EscalateIn(BaseModel):
    subscriber_id: str = Field(min_length=1, max_length=64)
    topic: str = Field(min_length=1, max_length=64)
    note: str = Field(max_length=4000)
    call_id: str | None = Field(default=None, max_length=64)


class ActionIn(BaseModel):
    version: int | None = Field(default=None, description="the version the screen shows; stale → 409")
    text: str | None = Field(default=None, max_length=10_000)
    assignee_id: int | None = None


class CommentIn(BaseModel):
    body: str = Field(max_length=10_000)


class RouteIn(BaseModel):
    topic: str
    group: str
    skills: list[str] = Field(default_factory=list, max_length=20)
    base_priority: int = 3


class SlaIn(BaseModel):
    priority: int
    first_response_min: int
    resolution_min: int
    business_hours: bool = True


class OutageIn(BaseModel):
    region: str = Field(max_length=128)
    note: str = Field(default="", max_length=2000)


@router.post("")
async def escalate(body: EscalateIn, tickets: TicketsDep, user: Raiser) -> dict[str, Any]:
    """Turn the request on screen into a ticket for technical support."""
    return await tickets.escalate(
        user, subscriber_id=body.subscriber_id, topic=body.topic, note=body.note, call_id=body.call_id
    )


@router.get("")
async def queue(
    tickets: TicketsDep, user: Support, scope: Literal["open", "mine", "queue", "resolved"] = "open"
) -> dict[str, Any]:
    return {"tickets": await asyncio.to_thread(tickets.queue, user, scope=scope)}


@router.post("/next")
async def take_next(tickets: TicketsDep, user: Support) -> dict[str, Any]:
    """Take the most urgent ticket this engineer has the skills for."""
    return {"ticket": await tickets.take_next(user)}


# ---- supervisor: routing rules ------------------------------------------------------------------------
@router.get("/config")
async def get_config(config: TicketConfigDep, user: Supervisor) -> dict[str, Any]:
    return await asyncio.to_thread(config.as_dict)


@router.put("/config/routes")
async def put_routes(body: list[RouteIn], config: TicketConfigDep, user: Supervisor) -> dict[str, Any]:
    await asyncio.to_thread(config.save_routes, [r.model_dump() for r in body])
    return await asyncio.to_thread(config.as_dict)


@router.put("/config/sla")
async def put_sla(body: list[SlaIn], config: TicketConfigDep, user: Supervisor) -> dict[str, Any]:
    await asyncio.to_thread(config.save_sla, [t.model_dump() for t in body])
    return await asyncio.to_thread(config.as_dict)


@router.put("/config/settings/{key}")
async def put_setting(
    key: Literal["priority_rules", "business_hours", "auto_assign"],
    body: Annotated[Any, Body()],
    config: TicketConfigDep,
    user: Supervisor,
) -> dict[str, Any]:
    await asyncio.to_thread(config.save_setting, key, body, user.id)
    return await asyncio.to_thread(config.as_dict)


@router.post("/config/outages")
async def declare_outage(body: OutageIn, config: TicketConfigDep, user: Supervisor) -> dict[str, Any]:
    await asyncio.to_thread(config.declare_outage, body.region, body.note, user.id)
    return await asyncio.to_thread(config.as_dict)


@router.post("/config/outages/{outage_id}/end")
async def end_outage(outage_id: RowId, config: TicketConfigDep, user: Supervisor) -> dict[str, Any]:
    await asyncio.to_thread(config.end_outage, outage_id)
    return await asyncio.to_thread(config.as_dict)


# ---- one ticket -----------------------------------------------------------------------------------------
@router.get("/{ticket_id}")
async def detail(ticket_id: TicketId, tickets: TicketsDep, user: Support) -> dict[str, Any]:
    """The ticket with its card snapshot, history, comments, attachments (the read is audited)."""
    return await asyncio.to_thread(tickets.detail, user, ticket_id)


@router.post("/{ticket_id}/actions/{action}")
async def act(
    ticket_id: TicketId, action: str, body: ActionIn, tickets: TicketsDep, user: Raiser
) -> dict[str, Any]:
    """take, start, release, wait, resume, resolve, close, reopen, assign; 409 with the reason if not allowed."""
    if action not in ACTIONS:
        from workstation.tickets.states import InvalidTransition

        raise InvalidTransition(
            f"unknown action {action[:32]!r}", error_id="unknown_action", details={"allowed": list(ACTIONS)}
        )
    return await tickets.act(
        user, ticket_id, action, expected_version=body.version, text=body.text, assignee_id=body.assignee_id
    )


@router.post("/{ticket_id}/comments")
async def comment(ticket_id: TicketId, body: CommentIn, tickets: TicketsDep, user: Support) -> dict[str, Any]:
    return await tickets.comment(user, ticket_id, body.body)


@router.post("/{ticket_id}/attachments")
async def attach(
    ticket_id: TicketId, tickets: TicketsDep, user: Support, file: Annotated[UploadFile, File()]
) -> dict[str, Any]:
    data = await file.read(MAX_ATTACHMENT_BYTES + 1)  # never more than one byte past the limit in memory
    check_attachment(file.filename or "", file.content_type or "", data)
    return await asyncio.to_thread(
        tickets.attach, user, ticket_id, file.filename or "", file.content_type or "", data
    )


@router.get("/{ticket_id}/attachments/{attachment_id}")
async def download(ticket_id: TicketId, attachment_id: RowId, tickets: TicketsDep, user: Support) -> Response:
    name, ctype, data = await asyncio.to_thread(tickets.attachment, ticket_id, attachment_id)
    from urllib.parse import quote

    return Response(
        data,
        media_type=ctype,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )
