"""Segmentation exports (analysts): start one, follow it, the release ledger, download files. Thin routes."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from workstation.api.deps import require_roles
from workstation.api.feature_deps import ExportsDep
from workstation.models import User

router = APIRouter(tags=["segments"])

Analyst = Annotated[User, Depends(require_roles("analyst", "marketing"))]


class ExportIn(BaseModel):
    month_from: str = Field(pattern=r"^\d{4}-\d{2}$")
    month_to: str = Field(pattern=r"^\d{4}-\d{2}$")
    k: int = Field(default=5, ge=2, le=1000)
    attributes: list[str] | None = None
    reason: str = Field(default="", max_length=500)
    recipient: str = Field(default="marketing", max_length=200)


@router.post("/api/exports", status_code=202)
async def start_export(body: ExportIn, exports: ExportsDep, user: Analyst) -> dict[str, Any]:
    """Queue an export (one runs at a time; the reply and ``GET`` show the queue position)."""
    exports.ensure_room()
    req = await asyncio.to_thread(
        exports.prepare, user.id, body.month_from, body.month_to, body.k, body.attributes, body.recipient
    )
    exports.start(req, user.id, body.reason or "segmentation export from the analyst page")
    return exports.get(req.export_id)  # type: ignore[no-any-return]


@router.get("/api/exports")
async def list_exports(exports: ExportsDep, user: Analyst) -> dict[str, Any]:
    return {"exports": await asyncio.to_thread(exports.list_exports)}


@router.get("/api/exports/ledger")
async def release_ledger(exports: ExportsDep, user: Analyst) -> dict[str, Any]:
    """Every release that left the workstation (period, attributes, recipient, key id, k, l, levels)."""
    from dataclasses import asdict

    releases = await asyncio.to_thread(exports.ledger.releases)
    return {"releases": [asdict(r) for r in releases]}


@router.get("/api/exports/{export_id}")
async def get_export(export_id: str, exports: ExportsDep, user: Analyst) -> dict[str, Any]:
    return await asyncio.to_thread(exports.get, export_id)  # type: ignore[no-any-return]


@router.get("/api/exports/{export_id}/files/{name}")
async def download(export_id: str, name: str, exports: ExportsDep, user: Analyst) -> FileResponse:
    path = await asyncio.to_thread(exports.file_for_download, export_id, name, user.id)
    return FileResponse(path, filename=f"{export_id}-{name}")
