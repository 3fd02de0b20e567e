"""Password hashing (argon2) and the one process of the server that does it for sign-ins.

Argon2 is meant to be slow: tens of milliseconds of CPU and 19 MB per check. Run on a thread of the
server, even a low-priority one, it slowed the screen pop under a sign-in flood (issue 15): the thread
shares the GIL with the event loop, and a low-priority thread that holds the GIL when the machine is busy
keeps the loop waiting until the scheduler gives it the CPU again (priority inversion); its Python parts
(the user lookup, the executor's bookkeeping) ran at that priority too. Here checks run in a separate
process at a lower priority: its own interpreter, its own GIL; the event loop only sends it two short
strings and gets a boolean back. The module imports nothing but argon2, so the process starts in a
fraction of a second (``spawn``: nothing of the server's state is forked into it).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

log = logging.getLogger(__name__)

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


def timed(fn: Any, *args: Any) -> tuple[Any, float]:
    """``fn(*args)`` and the CPU seconds it took (what the hashing budget is charged)."""
    started = time.process_time()
    result = fn(*args)
    return result, time.process_time() - started


def _start_worker() -> None:
    """In the hashing process: a lower priority, and an end when the server process is gone (killed
    without a shutdown, the worker would otherwise wait on its pipe for good)."""
    with contextlib.suppress(OSError):  # not permitted in some containers: it still runs apart
        os.nice(HASH_NICENESS)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def ready() -> bool:
    return True


class HashProcess:
    """One worker process (shared by every sign-in guard of this server process), started on first use
    and started again if it dies."""

    def __init__(self, workers: int = 1):
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._fallback = ThreadPoolExecutor(max_workers=1, thread_name_prefix="password-hash")

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker,
                )
            return self._pool

    def submit(self, fn: Any, *args: Any) -> Future[Any]:
        try:
            return self._executor().submit(fn, *args)
        except (BrokenProcessPool, RuntimeError):  # the worker died (killed, out of memory): a new one
            with self._lock:
                self._pool = None
        try:
            return self._executor().submit(fn, *args)
        except Exception as exc:  # no process can be started here (a main module without a guard…)
            log.error("password hashing process unavailable (%s): hashing on a thread", type(exc).__name__)
            return self._fallback.submit(fn, *args)

    def warm(self) -> None:
        """Start the worker now (at the server's start-up), not on the first sign-in."""
        self.submit(ready)

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


HASHING = HashProcess()
