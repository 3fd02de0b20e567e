"""The local outbox: a SQLite journal of writer operations the workstation DB has not confirmed yet.

Every call fact, presence change and audit row is appended here the moment it happens, and removed only
once the workstation DB has committed it. ``append`` only queues the operation in memory: the journal's
own thread commits what was queued a moment later, many operations per SQLite transaction, so the event
loop (the screen pop) never waits for a disk write nor for the lock the draining writer holds. Anything
that reads the journal writes the queue first, so a reader always sees every operation appended before. A PostgreSQL
outage, a full disk on the DB server or a restart of this node therefore delays history, it never drops
it. Operations that the DB refuses for their content (a value too long, a NUL byte, a broken reference)
are moved to the ``quarantine`` table, so one bad row never holds back or takes down the others.

One journal file belongs to one live writer: it is claimed with an exclusive ``flock``; a second writer
on the same data dir (another node, another container in a test) takes the next free file name.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
RETRY_S = 0.5
GATHER_S = 0.003  # what the next moment appends goes in the same transaction (one pop appends several)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    call_id TEXT NOT NULL,
    fields TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    call_id TEXT NOT NULL,
    fields TEXT NOT NULL,
    at REAL NOT NULL,
    error TEXT NOT NULL,
    quarantined_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Op:
    """One journalled operation: ``kind`` names the applier, ``fields`` are JSON-able."""

    seq: int
    kind: str
    call_id: str
    fields: dict[str, Any]


class Outbox:
    """Append, read in order, confirm, quarantine. Thread-safe (the event loop appends, the worker drains)."""

    def __init__(self, path: Path | str | None, *, claim: bool = True):
        """``claim`` False: the call writer's worker process, which drains a journal the server owns (it
        reads, confirms and quarantines; it never appends)."""
        self._lock = threading.Lock()
        self._lock_fd: int | None = None
        if path is None:
            self.path: Path | None = None
            target = ":memory:"
        else:
            self.path = self._claim(Path(path)) if claim else Path(path)
            target = str(self.path)
        self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")  # survives a crash of this process
        self._conn.executescript(_SCHEMA)
        self._queued: list[tuple[str, str, str, float]] = []  # appended, not in the journal yet
        self._queue_lock = threading.Lock()  # held only to append to / take the queue: never for I/O
        self._work = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._journal_loop, name="outbox-journal", daemon=True)
        if claim:
            self._thread.start()

    def _claim(self, wanted: Path) -> Path:
        wanted.parent.mkdir(parents=True, exist_ok=True)
        for n in range(64):
            path = wanted if n == 0 else wanted.with_name(f"{wanted.stem}-{n}{wanted.suffix}")
            fd = os.open(str(path) + ".lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self._lock_fd = fd
            return path
        raise RuntimeError(f"no free outbox journal beside {wanted}")

    def append(self, kind: str, call_id: str, fields: dict[str, Any]) -> None:
        data = json.dumps(fields, default=str, ensure_ascii=False)
        with self._queue_lock:
            self._queued.append((kind, call_id, data, time.time()))
        if not self._work.is_set():
            self._work.set()

    def _journal_loop(self) -> None:
        while True:
            self._work.wait()
            time.sleep(GATHER_S)
            self._work.clear()
            try:
                with self._lock:
                    if self._closed:
                        return
                    self._write_queued()
            except sqlite3.Error as exc:  # a full disk: kept in memory (in order), tried again
                log.error("outbox: journal write failed (%s), retrying", type(exc).__name__)
                time.sleep(RETRY_S)
                self._work.set()

    def _write_queued(self) -> None:
        """Commit the queued operations in one transaction, in order (the caller holds ``_lock``)."""
        with self._queue_lock:
            rows, self._queued = self._queued, []
        if not rows:
            return
        try:
            self._conn.execute("BEGIN")
            self._conn.executemany(
                "INSERT INTO pending (kind, call_id, fields, at) VALUES (?, ?, ?, ?)", rows
            )
            self._conn.execute("COMMIT")
        except sqlite3.Error:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            with self._queue_lock:
                self._queued[:0] = rows
            raise

    def peek(self, limit: int) -> list[Op]:
        with self._lock:
            self._write_queued()
            rows = self._conn.execute(
                "SELECT seq, kind, call_id, fields FROM pending ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [Op(seq, kind, call_id, json.loads(fields)) for seq, kind, call_id, fields in rows]

    def confirm(self, ops: list[Op]) -> None:
        """The DB committed these: forget them."""
        if not ops:
            return
        with self._lock:  # one transaction: the server's appends wait for one lock, not one per row
            self._conn.execute("BEGIN")
            try:
                self._conn.executemany("DELETE FROM pending WHERE seq = ?", [(op.seq,) for op in ops])
                self._conn.execute("COMMIT")
            except sqlite3.Error:
                self._conn.execute("ROLLBACK")
                raise

    def quarantine(self, op: Op, error: str) -> None:
        """The DB refuses this operation for its content: keep it aside (inspectable), out of the way."""
        with self._lock:
            self._conn.execute("BEGIN")
            self._conn.execute(
                "INSERT OR REPLACE INTO quarantine SELECT seq, kind, call_id, fields, at, ?, ? "
                "FROM pending WHERE seq = ?",
                (error, time.time(), op.seq),
            )
            self._conn.execute("DELETE FROM pending WHERE seq = ?", (op.seq,))
            self._conn.execute("COMMIT")

    def sync(self) -> None:
        """Write what was appended so far into the journal file now (before another process reads it)."""
        with self._lock:
            self._write_queued()

    def first_seq(self) -> int:
        """The oldest operation still waiting (0: none)."""
        with self._lock:
            self._write_queued()
            row = self._conn.execute("SELECT min(seq) FROM pending").fetchone()
        return int(row[0] or 0)

    def last_seq(self) -> int:
        with self._lock:
            self._write_queued()
            row = self._conn.execute("SELECT max(seq) FROM pending").fetchone()
        return int(row[0] or 0)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            self._write_queued()
            pending, oldest = self._conn.execute("SELECT count(*), min(at) FROM pending").fetchone()
            quarantined = self._conn.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        return {
            "pending": int(pending),
            "oldest_age_s": round(time.time() - oldest, 1) if oldest else 0.0,
            "quarantined": int(quarantined),
        }

    def quarantined(self) -> list[tuple[int, str, str, str]]:
        """(seq, kind, call_id, error) of every quarantined operation."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, kind, call_id, error FROM quarantine ORDER BY seq"
            ).fetchall()
        return [(int(a), str(b), str(c), str(d)) for a, b, c, d in rows]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._work.set()
            try:
                self._write_queued()
            finally:
                self._conn.close()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None
