"""Card reads outside a call: an operator names the reason, is limited per window, and supervisors hear of
unusual reading at once.

An operator reads a card because a subscriber is on the line. Opening cards with no call behind them is
how a base is harvested (500 full cards in 6 s were read that way, audited as bare views). So, for the
operator role, a read whose ``call_id`` is not the operator's own call needs a reason (kept in the
audit row, scrubbed of personal data), counts towards ``limit`` reads per ``window_s``, and the
``unusual``-th read in a window raises an alert to every supervisor's screen (and an audit row).
Supervisors and technical support read cards from their own work (tickets, quality control) and are
not limited here.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from workstation.errors import DomainError
from workstation.models import Call


class ReasonRequired(DomainError):
    status = 400
    error_id = "reason_required"


class CardReadLimit(DomainError):
    status = 429
    error_id = "card_read_limit"


class OffCallReads:
    """Per-operator sliding window of reads outside a call (this node's count)."""

    def __init__(
        self,
        limit: int = 30,
        unusual: int = 10,
        window_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.limit, self.unusual, self.window_s, self.clock = limit, unusual, window_s, clock
        self._reads: dict[int, deque[float]] = {}
        self._alerted_at: dict[int, float] = {}

    def note(self, user_id: int) -> tuple[int, bool]:
        """Count one read; returns (reads in the window, whether supervisors should hear of it now).
        Over the limit the read is refused (``CardReadLimit``) and not counted."""
        now = self.clock()
        reads = self._reads.setdefault(user_id, deque())
        while reads and now - reads[0] > self.window_s:
            reads.popleft()
        if len(reads) >= self.limit:
            raise CardReadLimit(
                "too many cards opened outside a call: a supervisor has been told",
                details={"limit": self.limit, "window_min": int(self.window_s // 60)},
            )
        reads.append(now)
        alert = len(reads) >= self.unusual and now - self._alerted_at.get(user_id, -1e18) > self.window_s
        if alert:
            self._alerted_at[user_id] = now
        return len(reads), alert


def is_own_call(calls: Any, db: Any, call_id: str | None, user_id: int) -> bool:
    """Is ``call_id`` a call this operator is ringing, talking on or finishing (live in ``calls``, the
    call service, or in the history within the last hour)?"""
    if not call_id:
        return False
    live = calls.calls.get(call_id)
    if live is not None:
        return live.operator_id == user_id or user_id in live.ringing
    recent = datetime.now(UTC) - timedelta(hours=1)
    with db.session() as s:
        row = s.execute(select(Call.operator_id, Call.created_at).where(Call.id == call_id)).first()
    if row is None or row.operator_id != user_id:
        return False
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    return bool(created > recent)
