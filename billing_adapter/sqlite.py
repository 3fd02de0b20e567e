"""sqlite3 backend: the embedded demo billing (``sqlite:///path``), opened read-only."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from billing_adapter.dbapi import Backend
from billing_adapter.ports import BillingError


class SqliteBackend(Backend):
    name = "sqlite"
    errors = (sqlite3.Error,)

    def __init__(self, path: Path | str, timeout_s: float = 2.0) -> None:
        self.path = Path(path)
        self.timeout_s = timeout_s

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
