"""The call writer's drain: the journal into the workstation DB, in order, in batches, until it is empty or
the DB is unreachable. The same code runs in the writer's thread or in its worker process
(``drain_process``); it owns no state but the DB and the appliers it is given."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.orm import Session

from workstation.calls import batch_sql
from workstation.calls.outbox import Op, Outbox
from workstation.db import Database

log = logging.getLogger("workstation.calls.writer")

BATCH_LIMIT = 2000
BatchApplier = Callable[[Session, list[dict[str, Any]]], None]


class UnknownOperation(LookupError):
    """A journalled operation no applier is registered for (quarantined, not dropped)."""


def is_db_unreachable(exc: BaseException) -> bool:
    """Connection-class failures (the DB is away), as opposed to a row the DB refuses."""
    if getattr(exc, "connection_invalidated", False):
        return True
    return isinstance(
        exc,
        sa_exc.OperationalError
        | sa_exc.InterfaceError
        | sa_exc.DisconnectionError
        | sa_exc.TimeoutError
        | ConnectionError,
    )


@dataclass
class Drained:
    """What one drain did: ``ok`` False when it stopped because the DB is unreachable."""

    ok: bool
    confirmed: int = 0
    quarantined: int = 0


class Drainer:
    """Writes batches of journalled operations: the built-in kinds as a few Core statements
    (``batch_sql``), then each feature's batch applier with all of its operations, in order, in the
    same transaction."""

    def __init__(self, db: Database, appliers: dict[str, BatchApplier]):
        self.db = db
        self.appliers = appliers  # shared with the writer: features add to it after start-up

    def drain(self, outbox: Outbox) -> Drained:
        """Write the journal into the DB until it is empty (ok) or the DB is unreachable (not ok)."""
        done = Drained(ok=True)
        while True:
            ops = outbox.peek(BATCH_LIMIT)
            if not ops:
                return done
            try:
                self.apply(ops)
            except Exception as exc:
                if is_db_unreachable(exc) and not self.db_answers():
                    log.warning(
                        "call writer: batch of %d waits, DB unreachable (%s)", len(ops), type(exc).__name__
                    )
                    done.ok = False
                    return done
                log.error(
                    "call writer: batch of %d failed (%s), writing it row by row",
                    len(ops),
                    type(exc).__name__,
                )
                if not self._row_by_row(outbox, ops, done):
                    done.ok = False
                    return done
                continue
            outbox.confirm(ops)
            done.confirmed += len(ops)

    def _row_by_row(self, outbox: Outbox, ops: list[Op], done: Drained) -> bool:
        for op in ops:
            try:
                self.apply([op])
            except Exception as exc:
                if is_db_unreachable(exc) and not self.db_answers():
                    return False
                outbox.quarantine(op, type(exc).__name__)
                done.quarantined += 1
                log.error(
                    "call writer: quarantined operation %d (%s, call %s): %s",
                    op.seq,
                    op.kind,
                    op.call_id or "-",
                    type(exc).__name__,
                )
                continue
            outbox.confirm([op])
            done.confirmed += 1
        return True

    def db_answers(self) -> bool:
        try:
            with self.db.session() as s:
                s.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def apply(self, ops: list[Op]) -> None:
        """One transaction for the batch."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        for op in ops:
            if op.kind in self.appliers:
                grouped.setdefault(op.kind, []).append(op.fields)
            elif op.kind not in batch_sql.KINDS:  # journalled by a feature not installed now: kept aside
                raise UnknownOperation(op.kind)
        with self.db.session() as s:
            batch_sql.apply_builtin(s, ops)
            for kind, fields in grouped.items():
                self.appliers[kind](s, fields)
