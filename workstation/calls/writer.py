"""One background writer for call history, presence and audit rows: the pop path never waits for the DB,
and nothing is lost when the DB is away.

``put()`` appends the operation to the local outbox (a SQLite journal in the data dir, committed by its own
thread a few milliseconds later, so the event loop never waits for the disk); a worker (``drain``: in a
thread, or with ``use_process`` in a process of its own, ``drain_process``) drains the journal into the
workstation DB in batches, in order, and removes what the DB committed.
When the DB is unreachable the worker backs off (0.25 s doubling up to 5 s) and tries again, for ever:
operations wait in the journal, across restarts too. When a batch fails for its content, it is written
again row by row and only the rows the DB refuses are quarantined (one log line each, ids only).

Operations are generic: ``kind`` names what to write. The built-in kinds (call facts, call events, audit
rows, presence; ``batch_sql``) are written as a few Core statements per batch; a feature that needs
another kind of durable write adds a batch applier to ``batch_appliers``. New call-fact columns need
nothing (an ``upsert`` sets whichever ``Call`` columns it carries).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workstation.calls import batch_sql
from workstation.calls.drain import BatchApplier, Drained, Drainer, UnknownOperation, is_db_unreachable
from workstation.calls.drain_process import DrainProcess, DrainUnavailable, applier_spec
from workstation.calls.outbox import Outbox
from workstation.db import Database

log = logging.getLogger(__name__)

BACKOFF_MIN_S = 0.25
BACKOFF_MAX_S = 5.0


__all__ = ["CallWriter", "UnknownOperation", "is_db_unreachable", "journal_path"]


class CallWriter:
    """Durable, ordered, batched writes of call facts and audit rows (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        batch_window_s: float = 0.25,
        journal: Path | str | None = None,
        on_state: Callable[[bool], Any] | None = None,
    ):
        self.db = db
        self.batch_window_s = batch_window_s
        self.journal_path = journal
        self.on_state = on_state  # called with True when saving becomes delayed, False when caught up
        self._outbox: Outbox | None = None
        self._wake = asyncio.Event()
        self._caught_up = asyncio.Event()  # set each time a drain found the journal empty
        self._waiters: list[tuple[int, asyncio.Future[bool]]] = []
        self._task: asyncio.Task[None] | None = None
        self._listeners: set[asyncio.Task[Any]] = set()  # state notices in flight (kept until done)
        self.db_ok = True
        self.confirmed = 0  # operations the DB committed since start
        self.quarantined_count = 0
        # further kinds of operation of this writer alone (a feature's, journalled like the others):
        # kind -> apply(session, [fields, ...]), called once per batch with all of the batch's operations of
        # that kind, in order, after the others (same transaction): aggregates such as the KPI roll-up
        # write one row per key per batch instead of one statement per operation
        self.batch_appliers: dict[str, BatchApplier] = {}
        self.drainer = Drainer(db, self.batch_appliers)
        self.process: DrainProcess | None = None  # ``use_process``: the drain runs in a worker process

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            self._outbox = Outbox(self.journal_path)
            if self._outbox.last_seq():
                log.warning(
                    "call writer: %d operations left from before, writing them", self._outbox.last_seq()
                )
        return self._outbox

    def start(self) -> None:
        if self._task is None:
            self._wake = asyncio.Event()
            self._wake.set()  # whatever an earlier run left in the journal
            self._task = asyncio.create_task(self._run(), name="call-writer")

    async def stop(self) -> None:
        if self._task and self.db_ok:
            try:
                await asyncio.wait_for(self.flush(), timeout=10)
            except TimeoutError:
                log.warning("call writer: stopping with operations still in the journal")
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._resolve_waiters(False)
        if self.process is not None:
            await asyncio.to_thread(self.process.close)
        if self._outbox is not None:
            self._outbox.close()
            self._outbox = None

    @property
    def delayed(self) -> bool:
        """True while the DB is away and operations wait in the journal ("saving delayed")."""
        return not self.db_ok

    async def flush(self) -> bool:
        """Wait until everything put so far is in the DB: True. False when the DB is away (the operations
        are safe in the journal and will be written later)."""
        if self._task is None:
            return await asyncio.to_thread(self._drain)
        if not self.db_ok:
            return False
        target = self.outbox.last_seq()
        if target == 0:
            return True
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, done))
        self._wake.set()
        return await done

    async def wait_saved(self) -> None:
        """Wait until everything put so far is in the DB, however long the DB stays away (tests, the
        fault benchmark, an orderly shutdown after an outage)."""
        while not await self.flush():
            self._caught_up.clear()
            self._wake.set()
            await self._caught_up.wait()

    def put(self, kind: str, call_id: str, **fields: Any) -> None:
        if kind not in batch_sql.KINDS and kind not in self.batch_appliers:
            raise ValueError(f"unknown writer operation {kind!r}")
        self.outbox.append(kind, call_id, fields)
        self._wake.set()

    def event(self, call_id: str, type_: str, agent: str | None, data: dict[str, Any]) -> None:
        self.put("event", call_id, type=type_, agent=agent, data=data)

    def audit(
        self,
        user_id: int | None,
        action: str,
        subject: str | None,
        details: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> None:
        self.put(
            "audit", "", user_id=user_id, action=action, subject=subject, details=details or {}, reason=reason
        )

    def health(self) -> dict[str, Any]:
        stats = self.outbox.stats()
        return {"db_ok": self.db_ok, "saving_delayed": self.delayed, **stats}

    # -- the worker ----------------------------------------------------------------------------
    async def _run(self) -> None:
        backoff = BACKOFF_MIN_S
        while True:
            await self._wake.wait()
            # gather what the next moment brings: a few larger transactions cost the pop path (GIL,
            # driver work) far less than one small transaction per call event; someone waiting for a
            # flush (an audited card read, a finished after-call work) is served at once
            if not self._waiters:
                await asyncio.sleep(self.batch_window_s)
            self._wake.clear()
            ok = await asyncio.to_thread(self._drain)
            self._set_db_ok(ok)
            if ok:
                backoff = BACKOFF_MIN_S
                self._resolve_waiters(True, drained=True)
                self._caught_up.set()
                continue
            self._resolve_waiters(False)
            try:  # new operations only journal meanwhile: the DB is tried again after the back-off
                await asyncio.sleep(backoff)
            finally:
                self._wake.set()
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _set_db_ok(self, ok: bool) -> None:
        if ok == self.db_ok:
            return
        self.db_ok = ok
        if ok:
            log.warning("call writer: workstation DB is back, journal written")
        else:
            log.error("call writer: workstation DB unreachable, keeping operations in the journal")
        if self.on_state is not None:
            try:
                result = self.on_state(not ok)
                if asyncio.iscoroutine(result):
                    task = asyncio.ensure_future(result)
                    self._listeners.add(task)
                    task.add_done_callback(self._listeners.discard)
            except Exception:
                log.exception("call writer: state listener failed")

    def _resolve_waiters(self, value: bool, drained: bool = False) -> None:
        """Answer flushes: all of them (False: the DB is away), or those whose operations are all written."""
        if not self._waiters:
            return
        first = self.outbox.first_seq() if drained else 0
        keep = []
        for seq, fut in self._waiters:
            if drained and first and first <= seq:
                keep.append((seq, fut))
            elif not fut.done():
                fut.set_result(value)
        self._waiters = keep

    def use_process(self, process: DrainProcess | None = None) -> None:
        """Drain in a worker process (``drain_process``) rather than in a thread of this one, when the
        journal is a file and the DB is not in memory; otherwise (and for a feature applier the worker
        cannot import) the thread drains, as before."""
        in_memory = self.db.url.startswith("sqlite") and self.db.engine.url.database in (None, "", ":memory:")
        if self.journal_path is None or in_memory:
            log.info("call writer: draining in a thread (in-memory journal or DB)")
            return
        self.process = process or DrainProcess()

    def _drain(self) -> bool:
        """Write the journal into the DB until it is empty (True) or the DB is unreachable (False)."""
        done = self._drain_in_worker()
        if done is None:  # no worker, an applier it cannot import, or it failed: this thread drains
            done = self.drainer.drain(self.outbox)
        self.confirmed += done.confirmed
        self.quarantined_count += done.quarantined
        return done.ok

    def _drain_in_worker(self) -> Drained | None:
        if self.process is None or self.outbox.path is None:
            return None
        specs = {kind: applier_spec(fn) for kind, fn in self.batch_appliers.items()}
        importable = {kind: spec for kind, spec in specs.items() if spec is not None}
        if len(importable) < len(specs):
            return None
        self.outbox.sync()  # the worker reads the file
        try:
            return self.process.drain(str(self.outbox.path), self.db.url, importable)
        except DrainUnavailable as exc:
            log.error("call writer: %s; draining in a thread this time", exc)
            return None


def journal_path(data_dir: Path) -> Path:
    """Where a node keeps its outbox journal."""
    return data_dir / "outbox" / "calls.sqlite"
