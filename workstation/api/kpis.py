"""Contact-center figures: the live board, reports (JSON and CSV), drill-down to calls, an operator's own day."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy import select

from workstation import audit
from workstation.api.deps import CurrentUser, DbDep, require_roles
from workstation.api.feature_deps import KpisDep
from workstation.db import Database
from workstation.errors import DomainError
from workstation.kpis import reports
from workstation.kpis.formulas import FORMULAS
from workstation.kpis.service import KpiService
from workstation.models import User

router = APIRouter(prefix="/api/kpis", tags=["kpis"])
Supervisor = Annotated[User, Depends(require_roles("supervisor"))]


def _guard(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except reports.ReportError as exc:
        raise DomainError(str(exc), error_id=exc.error_id) from None


@router.get("/board")
async def board(kpis: KpisDep, db: DbDep, _: Supervisor) -> dict[str, Any]:
    """The board as live counters have it, and the operators with their state and since when."""
    ops = await asyncio.to_thread(_operators, db)
    agents = kpis.live.agents
    operators = [
        {
            "id": o.id,
            "name": o.display_name,
            "extension": o.extension,
            "state": agents[o.id].state if o.id in agents else "offline",
            "since": agents[o.id].since if o.id in agents else None,
        }
        for o in ops
    ]
    return {**kpis.board(), "operators": operators, "formulas": FORMULAS}


def _operators(db: Database) -> list[Any]:
    with db.session() as s:
        return list(
            s.execute(
                select(User.id, User.display_name, User.extension)
                .where(User.role.in_(("operator", "tech_support")), User.active.is_(True))
                .order_by(User.display_name)
            ).all()
        )


class _Period:
    def __init__(
        self,
        start: Annotated[datetime, Query(alias="from")],
        end: Annotated[datetime, Query(alias="to")],
        queue: str | None = None,
        operator_id: int | None = None,
    ) -> None:
        self.start, self.end, self.queue, self.operator_id = start, end, queue, operator_id


Period = Annotated[_Period, Depends()]
Bucket = Literal["hour", "day", "week"]
Group = Literal["all", "queue", "operator"]


async def _report(
    kpis: KpiService, db: Database, p: _Period, bucket: str, group: str
) -> list[dict[str, Any]]:
    return await asyncio.to_thread(  # type: ignore[no-any-return]
        _guard,
        reports.report,
        db,
        kpis.rules,
        p.start,
        p.end,
        bucket=bucket,
        group=group,
        tz=kpis.tz,
        queue=p.queue,
        operator_id=p.operator_id,
    )


@router.get("/report")
async def report(
    kpis: KpisDep, db: DbDep, _: Supervisor, p: Period, bucket: Bucket = "hour", group: Group = "queue"
) -> dict[str, Any]:
    rows = await _report(kpis, db, p, bucket, group)
    return {"rows": rows, "rules": kpis.rules.as_dict()}


@router.get("/report.csv")
async def report_csv(
    kpis: KpisDep, db: DbDep, user: Supervisor, p: Period, bucket: Bucket = "hour", group: Group = "queue"
) -> Response:
    """The report as CSV: aggregates only, no personal data; the export is audited."""
    rows = await _report(kpis, db, p, bucket, group)
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    await audit.record_async(
        db,
        user_id=user.id,
        action="export.kpis",
        subject=None,
        details={"from": p.start.isoformat(), "to": p.end.isoformat(), "bucket": bucket, "group": group},
    )
    name = f"kpis_{group}_{bucket}_{p.start:%Y%m%d}.csv"
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/calls")
async def drill_calls(
    kpis: KpisDep, db: DbDep, _: Supervisor, p: Period, figure: str = "offered"
) -> dict[str, Any]:
    """The calls behind one figure of a report cell; each links to its card (``subscriber_id``)."""
    rows = await asyncio.to_thread(
        _guard,
        reports.calls,
        db,
        kpis.rules,
        p.start,
        p.end,
        figure=figure,
        queue=p.queue,
        operator_id=p.operator_id,
    )
    return {"calls": rows}


@router.get("/me")
async def my_figures(kpis: KpisDep, db: DbDep, user: CurrentUser) -> dict[str, Any]:
    """The signed-in operator's own figures for today."""
    return await asyncio.to_thread(  # type: ignore[no-any-return]
        reports.operator_today, db, kpis.rules, user.id, kpis.tz
    )
