"""Campaigns (marketing) and offer outcomes (operator). Thin routes."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from workstation import audit
from workstation.api.deps import DbDep, RowId, require_roles
from workstation.api.feature_deps import CampaignsDep
from workstation.models import User

router = APIRouter(tags=["campaigns"])

Analyst = Annotated[User, Depends(require_roles("analyst", "marketing"))]
Marketing = Annotated[User, Depends(require_roles("marketing"))]
Operator = Annotated[User, Depends(require_roles("operator", "supervisor"))]


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


@router.get("/api/campaigns")
async def list_campaigns(campaigns: CampaignsDep, user: Analyst) -> dict[str, Any]:
    return {"campaigns": await asyncio.to_thread(campaigns.list_campaigns)}


@router.post("/api/campaigns", status_code=201)
async def launch(body: CampaignIn, campaigns: CampaignsDep, user: Marketing) -> dict[str, Any]:
    return await asyncio.to_thread(  # type: ignore[no-any-return]
        lambda: campaigns.launch(
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
async def finish(campaign_id: RowId, campaigns: CampaignsDep, user: Marketing) -> dict[str, Any]:
    return await asyncio.to_thread(campaigns.finish, user, campaign_id)  # type: ignore[no-any-return]


@router.get("/api/subscribers/{subscriber_id}/offers")
async def offers(subscriber_id: str, db: DbDep, campaigns: CampaignsDep, user: Operator) -> dict[str, Any]:
    await audit.record_async(db, user_id=user.id, action="card.offers", subject=subscriber_id)
    return {"offers": await campaigns.card_section(subscriber_id, user)}


@router.post("/api/campaigns/{campaign_id}/outcome")
async def outcome(
    campaign_id: RowId, body: OutcomeIn, db: DbDep, campaigns: CampaignsDep, user: Operator
) -> dict[str, Any]:
    result = await asyncio.to_thread(
        campaigns.record_outcome, user, campaign_id, body.subscriber_id, body.outcome
    )
    await audit.record_async(
        db,
        user_id=user.id,
        action="offer.outcome",
        subject=body.subscriber_id,
        details={"campaign_id": campaign_id, "outcome": body.outcome},
    )
    return result  # type: ignore[no-any-return]
