"""Password hashing (argon2) and the one process of the server that does it for sign-ins.

Argon2 is meant to be slow: tens of milliseconds of CPU and 19 MB per check. Run on a thread of the
server, even a low-priority one, it slowed the screen pop under a sign-in flood (issue 15): the thread
shares the GIL with the event loop, and a low-priority thread that holds the GIL when the machine is busy
keeps the loop waiting until the scheduler gives it the CPU again (priority inversion); its Python parts
(the user lookup, the executor's bookkeeping) ran at that priority too. Here checks run in a separate
process at a lower priority: its own interpreter, its own GIL; the event loop only sends it two short
strings and gets a boolean back. The worker imports nothing but argon2, so it starts in a fraction of
a second, with nothing of the server's state in it.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from workstation import json_worker

_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
HASH_NICENESS = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check(password_hash: str | None, password: str) -> bool:
    """The sign-in check; ``None`` (no such user) costs the same as a wrong password."""
    if password_hash is None:
        _hasher.hash("timing-equaliser")
        return False
    return verify_password(password_hash, password)


WORKER_FUNCTIONS: dict[str, Callable[..., Any]] = {"check": check, "hash_password": hash_password}


def _answer(req: dict[str, Any]) -> dict[str, Any]:
    started = time.process_time()
    try:
        reply = {"id": req["id"], "result": WORKER_FUNCTIONS[req["fn"]](*req["args"])}
    except Exception as exc:  # reported with its id, the process goes on
        reply = {"id": req["id"], "error": type(exc).__name__}
    reply["cpu_s"] = time.process_time() - started
    return reply


def serve_worker() -> None:
    """The hashing process: one JSON request a line on stdin (id, function, arguments), one reply a line
    on stdout (id, result, CPU seconds). Ends when stdin closes: the server process is gone."""
    json_worker.serve(_answer, HASH_NICENESS)


class HashingUnavailable(RuntimeError):
    pass


class HashProcess:
    """The server process's hashing worker (shared by its sign-in guards), started on first use and
    again if it dies. Requests are written from the caller's thread (two short strings); one thread here
    waits on the replies, blocked in a read (no GIL held) and waking once per reply (``json_worker``)."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._pending: dict[int, Future[tuple[Any, float]]] = {}
        self._next = 0

    def _start(self) -> subprocess.Popen[bytes]:
        proc = json_worker.spawn("workstation.password_hash", "serve_worker")
        threading.Thread(target=self._read, args=(proc,), name="password-hash-replies", daemon=True).start()
        return proc

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            reply = json.loads(line)
            with self._lock:
                fut = self._pending.pop(reply.get("id", -1), None)
            if fut is None:
                continue
            if "error" in reply:
                fut.set_exception(HashingUnavailable(reply["error"]))
            else:
                fut.set_result((reply["result"], reply["cpu_s"]))
        with self._lock:  # the worker ended: whatever it had is failed, the next request starts another
            if self._proc is proc:
                self._proc = None
            lost = [f for f in self._pending.values()]
            self._pending.clear()
        for fut in lost:
            fut.set_exception(HashingUnavailable("the hashing process ended"))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[tuple[Any, float]]:
        """``fn(*args)`` (a function of ``WORKER_FUNCTIONS``) in the worker; the future gets (result,
        CPU seconds)."""
        fut: Future[tuple[Any, float]] = Future()
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            self._next += 1
            self._pending[self._next] = fut
            assert self._proc.stdin is not None
            try:
                request = {"id": self._next, "fn": fn.__name__, "args": list(args)}
                self._proc.stdin.write(json.dumps(request).encode() + b"\n")
            except OSError as exc:
                self._pending.pop(self._next, None)
                self._proc = None
                fut.set_exception(HashingUnavailable(type(exc).__name__))
        return fut

    def warm(self) -> None:
        """Start the worker now (at the server's start-up), not on the first sign-in."""
        with self._lock:
            if self._proc is None:
                self._proc = self._start()

    def shutdown(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None and proc.stdin is not None:
            proc.stdin.close()  # the worker ends at EOF


HASHING = HashProcess()


if __name__ == "__main__":
    serve_worker()
