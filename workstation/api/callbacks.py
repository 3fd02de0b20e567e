"""Callbacks as tasks: the operator promises one (with a time), lists theirs, closes them; supervisors see
every operator's due and overdue callbacks."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from workstation import audit
from workstation.api.deps import DbDep, require_roles
from workstation.api.feature_deps import CallbacksDep
from workstation.models import User

router = APIRouter(prefix="/api/callbacks", tags=["callbacks"])
Operator = Annotated[User, Depends(require_roles("operator", "supervisor"))]
Supervisor = Annotated[User, Depends(require_roles("supervisor"))]


class NewCallback(BaseModel):
    due_at: datetime
    subscriber_id: str | None = Field(default=None, max_length=64)
    msisdn: str | None = Field(default=None, max_length=32)
    note: str = Field(default="", max_length=2000)
    record_id: int | None = None
    call_id: str | None = Field(default=None, max_length=64)


class Close(BaseModel):
    state: Literal["done", "cancelled"]


@router.post("")
async def create(body: NewCallback, callbacks: CallbacksDep, user: Operator) -> dict[str, Any]:
    return await asyncio.to_thread(
        callbacks.create,
        user,
        body.due_at,
        subscriber_id=body.subscriber_id,
        msisdn=body.msisdn,
        note=body.note,
        record_id=body.record_id,
        call_id=body.call_id,
    )


@router.get("")
async def mine(
    callbacks: CallbacksDep, user: Operator, days_ahead: Annotated[int, Query(ge=0, le=90)] = 7
) -> dict[str, Any]:
    """The operator's open callbacks, due and overdue first."""
    rows = await asyncio.to_thread(callbacks.for_operator, user, days_ahead)
    return {"callbacks": rows}


@router.get("/all")
async def everyone(
    db: DbDep, callbacks: CallbacksDep, user: Supervisor, only_due: bool = True
) -> dict[str, Any]:
    """Every operator's open callbacks (the due and overdue ones by default); the read is audited."""
    rows = await asyncio.to_thread(callbacks.for_supervisor, only_due)
    await audit.record_async(
        db, user_id=user.id, action="callbacks.view", subject="all", details={"count": len(rows)}
    )
    return {"callbacks": rows}


@router.post("/{callback_id}/close")
async def close(callback_id: int, body: Close, callbacks: CallbacksDep, user: Operator) -> dict[str, Any]:
    return await asyncio.to_thread(callbacks.close, user, callback_id, body.state)
