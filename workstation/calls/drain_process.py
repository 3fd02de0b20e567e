"""The call writer's drain in a worker process of its own, so that its SQLAlchemy and driver work never
holds the server's GIL while a screen pop is on its way (issue 16: the writer's batches stalled the event
loop for 8-15 ms, the largest part of the pop's slowest 1 %). Off by default (``writer_process``): on the
2-core development machine the pops' p99 did not get shorter with it (README, call writer).

The journal is a WAL SQLite file: the server appends to it, the worker reads, writes to the workstation
DB and deletes what the DB committed, each on its own connection. One request per drain, one JSON line
each way over the worker's stdin and stdout (``json_worker``, as for ``password_hash``):

    {"journal": path, "db": url, "appliers": {kind: "module:function"}}
    {"ok": true, "confirmed": 157, "quarantined": 0, "logs": [[30, "workstation.calls.writer", "..."]]}

The worker's log records of the drain come back with the reply and are logged here, by the same
loggers. A worker that dies is started again at the next drain; its batch is still in the journal and is
written again (a batch the DB committed just before the worker died is written twice: call facts are
upserts, call events would be doubled, as after a crash of the server itself).
"""

from __future__ import annotations

import importlib
import json
import logging
import subprocess
import threading
from typing import Any

from workstation import json_worker
from workstation.calls.drain import BatchApplier, Drained

log = logging.getLogger("workstation.calls.writer")
NICENESS = 5  # the pops' process goes first on a busy machine; history only waits a little longer


class DrainUnavailable(RuntimeError):
    """The worker process could not be reached or ended during the drain."""


def applier_spec(fn: BatchApplier) -> str | None:
    """``module:function`` for a module-level function (the worker imports it); None for anything else
    (a lambda, a bound method: such a writer drains in its thread)."""
    module, name = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if not module or not name or "<" in name or "." in name:
        return None
    return f"{module}:{name}"


class _Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[list[Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append([record.levelno, record.name, record.getMessage()])


class _Worker:
    """The worker side: one Database and one journal connection per path, kept between drains."""

    def __init__(self) -> None:
        self.dbs: dict[str, Any] = {}
        self.journals: dict[str, Any] = {}
        self.appliers: dict[str, BatchApplier] = {}

    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        from workstation.calls.drain import Drainer
        from workstation.calls.outbox import Outbox
        from workstation.db import Database

        for kind, spec in req.get("appliers", {}).items():
            if kind not in self.appliers:
                module, name = spec.split(":")
                self.appliers[kind] = getattr(importlib.import_module(module), name)
        db = self.dbs.get(req["db"]) or self.dbs.setdefault(req["db"], Database(req["db"]))
        journal = self.journals.get(req["journal"]) or self.journals.setdefault(
            req["journal"], Outbox(req["journal"], claim=False)
        )
        captured = _Captured()
        root = logging.getLogger()
        root.addHandler(captured)
        try:
            done = Drainer(db, self.appliers).drain(journal)
        finally:
            root.removeHandler(captured)
        return {
            "ok": done.ok,
            "confirmed": done.confirmed,
            "quarantined": done.quarantined,
            "logs": captured.records,
        }


def serve() -> None:
    """The worker's main loop (``python -c`` in a child of the server)."""
    logging.getLogger().setLevel(logging.WARNING)
    json_worker.serve(_Worker().handle, NICENESS)


class DrainProcess:
    """The server side: starts the worker on first use and again after it died; ``drain`` blocks its
    (thread's) caller until the worker's reply, reading a pipe with the GIL released."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self.started = 0  # worker processes started (a test can see a dead one replaced)

    def _start(self) -> subprocess.Popen[bytes]:
        self.started += 1
        return json_worker.spawn("workstation.calls.drain_process", "serve")

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def drain(self, journal: str, db_url: str, appliers: dict[str, str]) -> Drained:
        request = json.dumps({"journal": journal, "db": db_url, "appliers": appliers}).encode() + b"\n"
        with self._lock:
            line = self._ask(request)
            if line is None:  # a worker that died since the last drain: once more, with a new one
                line = self._ask(request)
        if line is None:
            raise DrainUnavailable("the call writer's worker process ended")
        reply = json.loads(line)
        if "error" in reply:
            raise DrainUnavailable(f"the call writer's worker failed: {reply['error']}")
        for level, name, message in reply["logs"]:
            logging.getLogger(name).log(level, "%s", message)
        return Drained(reply["ok"], reply["confirmed"], reply["quarantined"])

    def _ask(self, request: bytes) -> bytes | None:
        """One request and its reply line; None when the worker ended (it is then forgotten)."""
        if self._proc is None or self._proc.poll() is not None:
            self._proc = self._start()
        proc = self._proc
        assert proc.stdin is not None
        assert proc.stdout is not None
        try:
            proc.stdin.write(request)
            line = proc.stdout.readline()
        except OSError:
            line = b""
        if line:
            return line
        self._proc = None
        proc.kill()
        proc.wait()
        return None

    def close(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        proc.stdin.close()  # the worker's loop ends at end of input
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
