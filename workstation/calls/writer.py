"""One background writer for call history, presence and pop audits: the pop path never waits for the DB.

Operations are applied in order, in batches, in a worker thread. A failed batch is logged (ids only, no
personal data) and retried once, so a brief DB hiccup loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workstation.db import Database
from workstation.models import AuditLog, Call, CallEventRow, User

log = logging.getLogger(__name__)

_TIME_FIELDS = {"queued_at", "offered_at", "answered_at", "ended_at", "wrapup_done_at", "started_at"}
# a call's history times are set once: a resync (reconnect, restarted workstation, new leader) learning
# the call again never moves them
_WRITE_ONCE = {"queued_at", "offered_at", "answered_at"}


def _ts(v: Any) -> Any:
    return datetime.fromtimestamp(v, UTC) if isinstance(v, int | float) else v


class CallWriter:
    def __init__(self, db: Database, batch_window_s: float = 0.25):
        self.db = db
        self.batch_window_s = batch_window_s
        self.queue: asyncio.Queue[tuple[str, str, dict[str, Any]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        # further kinds of operation, registered by features: kind -> apply(session, fields), run inside
        # the batch's transaction (fields are JSON-able, as for the built-in kinds)
        self.appliers: dict[str, Callable[[Session, dict[str, Any]], None]] = {}

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="call-writer")

    async def stop(self) -> None:
        await self.flush()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def flush(self) -> None:
        """Wait until everything queued so far is written (tests, shutdown)."""
        if self._task is None:
            ops = []
            while not self.queue.empty():
                ops.append(self.queue.get_nowait())
            if ops:
                await asyncio.to_thread(self._apply, ops)
            return
        # a marker behind what is queued now: resolved once the batch holding it is written (waiting
        # for an empty queue could take for ever on a busy floor)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.put("flush", "", future=done)
        await done

    def put(self, kind: str, call_id: str, **fields: Any) -> None:
        self.queue.put_nowait((kind, call_id, fields))

    def event(self, call_id: str, type_: str, agent: str | None, data: dict[str, Any]) -> None:
        self.put("event", call_id, type=type_, agent=agent, data=data)

    def audit(self, user_id: int, action: str, subject: str, details: dict[str, Any]) -> None:
        self.put("audit", "", user_id=user_id, action=action, subject=subject, details=details)

    async def _run(self) -> None:
        while True:
            first = await self.queue.get()
            # gather what the next moment brings: a few larger transactions cost the pop path (GIL,
            # driver work) far less than one small transaction per call event
            await asyncio.sleep(self.batch_window_s)
            ops = [first]
            while not self.queue.empty() and len(ops) < 2000:
                ops.append(self.queue.get_nowait())
            for attempt in (1, 2):
                try:
                    await asyncio.to_thread(self._apply, ops)
                    break
                except Exception as exc:
                    log.error(
                        "call writer: batch of %d failed (%s), attempt %d",
                        len(ops),
                        type(exc).__name__,
                        attempt,
                    )
                    await asyncio.sleep(0.5)
            for kind, _, f in ops:
                if kind == "flush" and not f["future"].done():
                    f["future"].set_result(None)
                self.queue.task_done()

    def _apply(self, ops: list[tuple[str, str, dict[str, Any]]]) -> None:
        """One transaction per batch: the batch's calls in one SELECT, rows inserted together at commit
        (a handful of round trips per batch, not two per operation: the GIL stays with the event loop)."""
        call_ids = {cid for kind, cid, _ in ops if kind in ("upsert", "subscriber", "event")}
        with self.db.session() as s:
            calls: dict[str, Call] = {}
            if call_ids:
                calls = {c.id: c for c in s.scalars(select(Call).where(Call.id.in_(call_ids)))}

            def call_row(call_id: str, caller: str | None = None) -> Call:
                row = calls.get(call_id)
                if row is None:
                    row = calls[call_id] = Call(id=call_id, caller=caller or "")
                    s.add(row)
                return row

            users: dict[int, User | None] = {}
            for kind, call_id, f in ops:
                if kind in ("upsert", "subscriber"):
                    row = call_row(call_id, f.get("caller"))
                    for k, v in f.items():
                        if v is None and k != "operator_id":
                            continue
                        if k in _WRITE_ONCE and getattr(row, k) is not None:
                            continue
                        setattr(row, k, _ts(v) if k in _TIME_FIELDS else v)
                elif kind == "event":
                    call_row(call_id)
                    s.add(CallEventRow(call_id=call_id, type=f["type"], agent=f["agent"], data=f["data"]))
                elif kind == "audit":
                    s.add(
                        AuditLog(
                            user_id=f["user_id"],
                            action=f["action"],
                            subject=f["subject"],
                            details=f["details"],
                        )
                    )
                elif kind == "presence":
                    uid = f["user_id"]
                    if uid not in users:
                        users[uid] = s.get(User, uid)
                    user = users[uid]
                    if user is not None:
                        user.presence = f["presence"]
                elif kind in self.appliers:
                    self.appliers[kind](s, f)
