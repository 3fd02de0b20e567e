"""Sign-in under attack: attempts limited per user name and per client address with back-off, and
password hashing in a pool of its own that a flood cannot grow.

Argon2 is meant to be slow (tens of milliseconds of CPU and 19 MB per check). Run on the default
thread pool, 32 concurrent wrong sign-ins took every worker thread and both cores, and the screen pop
path (billing and DB hops share that pool) slowed from 10 ms to over a second. Here checks run on one
dedicated thread (one core at most; the event loop and the pop path keep the other), at most
``max_waiting`` wait their turn, and any more are refused at once with ``sign_in_busy`` (503).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from workstation.errors import DomainError
from workstation.runtime import lower_thread_priority


class TooManyAttempts(DomainError):
    status = 429
    error_id = "too_many_attempts"


class SignInBusy(DomainError):
    status = 503
    error_id = "sign_in_busy"


@dataclass
class _Record:
    failures: int = 0
    last_failure: float = 0.0
    locked_until: float = 0.0


class AttemptLimiter:
    """Failed attempts per key; after ``free`` failures within ``window_s`` each further one locks the key
    for ``base_s`` doubling up to ``max_s``. A success clears the key. Bounded memory (LRU of keys)."""

    def __init__(
        self,
        free: int,
        window_s: float = 900.0,
        base_s: float = 1.0,
        max_s: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ):
        self.free, self.window_s, self.base_s, self.max_s = free, window_s, base_s, max_s
        self.clock = clock
        self.max_keys = max_keys
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def wait_s(self, key: str) -> float:
        """Seconds before this key may try again (0: now)."""
        rec = self._records.get(key)
        return 0.0 if rec is None else max(0.0, rec.locked_until - self.clock())

    def failed(self, key: str) -> None:
        now = self.clock()
        rec = self._records.pop(key, None) or _Record()
        if now - rec.last_failure > self.window_s:
            rec.failures = 0
        rec.failures += 1
        rec.last_failure = now
        over = rec.failures - self.free
        if over > 0:
            rec.locked_until = now + min(self.base_s * 2 ** (over - 1), self.max_s)
        self._records[key] = rec
        while len(self._records) > self.max_keys:
            self._records.popitem(last=False)

    def succeeded(self, key: str) -> None:
        self._records.pop(key, None)


class SignInGuard:
    """The sign-in route's guard: ``check`` before, ``verify`` in the bounded pool, ``failed``/``succeeded`` after."""

    def __init__(self, per_user: int = 5, per_address: int = 20, max_waiting: int = 8, threads: int = 1):
        self.users = AttemptLimiter(free=per_user)
        self.addresses = AttemptLimiter(free=per_address, window_s=300.0, max_s=300.0)
        self.max_waiting = max_waiting
        # below the event loop's priority: a flood's hashing never takes the CPU from the screen pop
        self._pool = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="password-hash", initializer=lower_thread_priority
        )
        self._waiting = 0
        self.refused_busy = 0
        self.refusal_delay_s = 1.0

    @staticmethod
    def _user_key(username: str) -> str:
        return username.strip().casefold()

    async def check(self, username: str, address: str) -> None:
        """Refuse (after the tarpit pause) while the user name or the address is locked."""
        wait = max(self.users.wait_s(self._user_key(username)), self.addresses.wait_s(address))
        if wait > 0:
            await asyncio.sleep(self.refusal_delay_s)
            raise TooManyAttempts(
                "too many failed sign-ins: wait and try again",
                details={"retry_after_s": int(wait) + 1},
            )

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a password check (or hash) on the pool; refuse when too many already wait, after a pause
        (a tarpit: costs the event loop nothing, and holds a flooding client to one refusal a second
        instead of hundreds of cheap requests a second that would take the loop from the pops)."""
        if self._waiting >= self.max_waiting:
            self.refused_busy += 1
            await asyncio.sleep(self.refusal_delay_s)
            raise SignInBusy("sign-in is busy, try again in a moment", details={"retry_after_s": 1})
        self._waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        finally:
            self._waiting -= 1

    def failed(self, username: str, address: str) -> None:
        self.users.failed(self._user_key(username))
        self.addresses.failed(address)

    def succeeded(self, username: str, address: str) -> None:
        self.users.succeeded(self._user_key(username))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
