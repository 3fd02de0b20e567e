"""The operator's live call (restore after reload), after-call work, click-to-dial; the supervisor's floor."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from billing_adapter.phones import normalise_msisdn
from workstation.api.deps import (
    CallId,
    CallsDep,
    ContainerDep,
    CurrentUser,
    DbDep,
    TelephonyDep,
    require_roles,
    saving_status,
)
from workstation.db import Database
from workstation.errors import DomainError, Unavailable
from workstation.models import User

router = APIRouter(prefix="/api", tags=["calls"])


class Dial(BaseModel):
    number: str = Field(min_length=1, max_length=32)


@router.get("/calls/current")
async def current(user: CurrentUser, calls: CallsDep) -> dict[str, Any]:
    snap = await calls.snapshot_for(user.id)
    return {"call": snap}


@router.post("/calls/{call_id}/wrapup")
async def finish_wrapup(call_id: CallId, user: CurrentUser, calls: CallsDep) -> JSONResponse:
    """200 when the history is written; 202 ``saving_delayed`` when the DB is away: the finish is kept
    in the outbox and written later, the operator is ready for the next call either way."""
    saved = await calls.finish_wrapup(call_id, user)
    return JSONResponse(saving_status(saved), status_code=200 if saved else 202)


@router.post("/calls/dial")
async def dial(body: Dial, user: CurrentUser, telephony: TelephonyDep) -> dict[str, Any]:
    if not user.extension:
        raise DomainError("you have no phone extension configured", error_id="no_extension")
    number = normalise_msisdn(body.number)  # BadNumber: 400 bad_number (workstation.errors)
    if telephony is None:
        raise Unavailable("telephony is not connected", error_id="telephony_down")
    try:
        # a refused or failed Originate is a TelephonyError: 502 / 503 with its error_id (workstation.errors)
        action = await telephony.originate(user.extension, number)
    except ValueError as exc:  # the extension configured for the user is not a dialable line
        raise DomainError(str(exc), error_id="bad_extension") from None
    return {"action_id": action}


def _floor_users(db: Database) -> list[Any]:
    with db.session() as s:
        return list(
            s.execute(
                select(User.id, User.display_name, User.extension, User.presence, User.role)
                .where(User.role.in_(("operator", "tech_support")), User.active.is_(True))
                .order_by(User.display_name)
            ).all()
        )


@router.get("/supervisor/floor")
async def floor(
    calls: CallsDep,
    container: ContainerDep,
    db: DbDep,
    _: Annotated[User, Depends(require_roles("supervisor"))],
) -> dict[str, Any]:
    # off the event loop: the loop carries the screen pops' 50 ms budget
    ops = await asyncio.to_thread(_floor_users, db)
    state = calls.floor()
    # tabs open on any node, and the latest presence heard on the bus over the stored (written-behind) one
    # (workstation.floor_presence): the node's own hub and the stored row alone read "offline" for an
    # operator on another node, or one whose change the writer has not stored yet
    board = container.floor
    online = await board.online()
    operators = [
        {
            "id": o.id,
            "name": o.display_name,
            "extension": o.extension,
            "role": o.role,
            "presence": board.presence(o.id, o.presence) if o.id in online else "offline",
            "call_id": state["on_call"].get(o.id),
        }
        for o in ops
    ]
    return {
        "operators": operators,
        "waiting": state["waiting"],
        "longest_wait_s": state["longest_wait_s"],
        "telephony_up": state["telephony_up"],
        "telephony": state["telephony"],
        "live_calls": state["live_calls"],
    }
