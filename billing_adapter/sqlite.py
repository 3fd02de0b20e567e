"""sqlite3 backend: the embedded demo billing (``sqlite:///path``), opened read-only."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from billing_adapter.dbapi import Backend
from billing_adapter.ports import BillingError

# a card query on the event loop waits at most this long for a lock (nothing writes the demo billing
# while it is served; a regeneration in progress makes the pop fall back to the cache, not stall)
INLINE_LOCK_WAIT_S = 0.05


class SqliteBackend(Backend):
    name = "sqlite"
    errors = (sqlite3.Error,)
    inline_cards = True  # a local read-only file: the card queries take ~0.1 ms, no thread hop

    def __init__(self, path: Path | str, timeout_s: float = 2.0) -> None:
        self.path = Path(path)
        self.timeout_s = min(timeout_s, INLINE_LOCK_WAIT_S)

    def connect(self) -> Any:
        if not self.path.exists():
            raise BillingError(f"demo billing not found at {self.path} (run `workstation billing generate`)")
        conn = sqlite3.connect(
            f"file:{self.path}?mode=ro", uri=True, timeout=self.timeout_s, check_same_thread=False
        )
        conn.execute("PRAGMA query_only = 1")
        return conn

    def interrupt(self, conn: Any, cursor: Any) -> None:
        conn.interrupt()

    def describe(self) -> str:
        return "sqlite"
