"""Calls already written to the workstation DB, as the card's "previous calls" shows them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from workstation.db import Database
from workstation.models import Call


def recent_calls(db: Database, subscriber_id: str, limit: int = 20) -> list[dict[str, Any]]:
    with db.session() as s:
        rows = s.scalars(
            select(Call)
            .where(Call.subscriber_id == subscriber_id)
            .order_by(Call.created_at.desc())
            .limit(limit)
        ).all()
        return [
            {
                "id": r.id,
                "state": r.state,
                "queued_at": r.queued_at,
                "answered_at": r.answered_at,
                "ended_at": r.ended_at,
                "operator_id": r.operator_id,
            }
            for r in rows
        ]
