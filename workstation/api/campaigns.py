"""Segmentation exports (analyst), campaigns (marketing) and offer outcomes (operator). Thin routes."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from workstation import audit
from workstation.api.deps import ContainerDep, RowId, require_roles
from workstation.models import User

router = APIRouter(tags=["segments"])

Analyst = Annotated[User, Depends(require_roles("analyst", "marketing"))]
Marketing = Annotated[User, Depends(require_roles("marketing"))]
Operator = Annotated[User, Depends(require_roles("operator", "supervisor"))]


class ExportIn(BaseModel):
    month_from: str = Field(pattern=r"^\d{4}-\d{2}$")
    month_to: str = Field(pattern=r"^\d{4}-\d{2}$")
    k: int = Field(default=5, ge=2, le=1000)
    attributes: list[str] | None = None
    reason: str = Field(default="", max_length=500)
    recipient: str = Field(default="marketing", max_length=200)


class CampaignIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    offer_text: str = Field(min_length=1, max_length=2000)
    export_id: str = Field(min_length=1, max_length=64)
    segments: list[str] = Field(min_length=1, max_length=20)
    starts_on: date
    ends_on: date
    reason: str = Field(default="", max_length=500)


class OutcomeIn(BaseModel):
    subscriber_id: str = Field(min_length=1, max_length=64)
    outcome: str


@router.post("/api/exports", status_code=202)
async def start_export(body: ExportIn, container: ContainerDep, user: Analyst) -> dict[str, Any]:
    exports = container.service("exports")
    exports.ensure_room()
    req = await asyncio.to_thread(
        exports.prepare, user.id, body.month_from, body.month_to, body.k, body.attributes, body.recipient
    )
    exports.start(req, user.id, body.reason or "segmentation export from the analyst page")
    return exports.get(req.export_id)  # type: ignore[no-any-return]


@router.get("/api/exports")
async def list_exports(container: ContainerDep, user: Analyst) -> dict[str, Any]:
    return {"exports": await asyncio.to_thread(container.service("exports").list_exports)}


@router.get("/api/exports/ledger")
async def release_ledger(container: ContainerDep, user: Analyst) -> dict[str, Any]:
    """Every release that left the workstation (period, attributes, recipient, key id, k, l, levels)."""
    from dataclasses import asdict

    releases = await asyncio.to_thread(container.service("exports").ledger.releases)
    return {"releases": [asdict(r) for r in releases]}


@router.get("/api/exports/{export_id}")
async def get_export(export_id: str, container: ContainerDep, user: Analyst) -> dict[str, Any]:
    return await asyncio.to_thread(container.service("exports").get, export_id)  # type: ignore[no-any-return]


@router.get("/api/exports/{export_id}/files/{name}")
async def download(export_id: str, name: str, container: ContainerDep, user: Analyst) -> FileResponse:
    path = await asyncio.to_thread(container.service("exports").file_for_download, export_id, name, user.id)
    return FileResponse(path, filename=f"{export_id}-{name}")


@router.get("/api/campaigns")
async def list_campaigns(container: ContainerDep, user: Analyst) -> dict[str, Any]:
    return {"campaigns": await asyncio.to_thread(container.service("campaigns").list_campaigns)}


@router.post("/api/campaigns", status_code=201)
async def launch(body: CampaignIn, container: ContainerDep, user: Marketing) -> dict[str, Any]:
    service = container.service("campaigns")
    return await asyncio.to_thread(  # type: ignore[no-any-return]
        lambda: service.launch(
            user,
            name=body.name,
            offer_text=body.offer_text,
            export_id=body.export_id,
            segments=body.segments,
            starts_on=body.starts_on,
            ends_on=body.ends_on,
            reason=body.reason,
        )
    )


@router.post("/api/campaigns/{campaign_id}/finish")
async def finish(campaign_id: RowId, container: ContainerDep, user: Marketing) -> dict[str, Any]:
    return await asyncio.to_thread(container.service("campaigns").finish, user, campaign_id)  # type: ignore[no-any-return]


@router.get("/api/subscribers/{subscriber_id}/offers")
async def offers(subscriber_id: str, container: ContainerDep, user: Operator) -> dict[str, Any]:
    await audit.record_async(container.db, user_id=user.id, action="card.offers", subject=subscriber_id)
    return {"offers": await container.service("campaigns").card_section(subscriber_id, user)}


@router.post("/api/campaigns/{campaign_id}/outcome")
async def outcome(
    campaign_id: RowId, body: OutcomeIn, container: ContainerDep, user: Operator
) -> dict[str, Any]:
    service = container.service("campaigns")
    result = await asyncio.to_thread(
        service.record_outcome, user, campaign_id, body.subscriber_id, body.outcome
    )
    await audit.record_async(
        container.db,
        user_id=user.id,
        action="offer.outcome",
        subject=body.subscriber_id,
        details={"campaign_id": campaign_id, "outcome": body.outcome},
    )
    return result  # type: ignore[no-any-return]
