"""Sign-in under attack: attempts limited per user name and per client address with back-off (shared by
the nodes through Redis when the cache is on Redis), password checks in a process of their own behind
a short queue that sheds load at once, and refusals answered after a pause that holds nothing.

A flood must not reach the pop path. What a refused sign-in costs the event loop is kept to the cheap
``SignInGate`` in front of the app (``workstation.signin_gate``: no session, no routing, no DB); what an
admitted one costs is the user lookup and two short messages to the hashing process
(``workstation.password_hash``). At most ``max_waiting`` checks are in flight (one hashing, the others
queued behind it); any more are refused with ``sign_in_busy`` (503) without being queued.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from workstation.errors import DomainError
from workstation.password_hash import HASHING, HashingUnavailable, HashProcess
from workstation.signin_shared import SharedAttempts


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

    def _record(self, key: str) -> _Record:
        rec = self._records.pop(key, None) or _Record()
        self._records[key] = rec
        while len(self._records) > self.max_keys:
            self._records.popitem(last=False)
        return rec

    def failed(self, key: str) -> None:
        now = self.clock()
        rec = self._record(key)
        if now - rec.last_failure > self.window_s:
            rec.failures = 0
        rec.failures += 1
        rec.last_failure = now
        over = rec.failures - self.free
        if over > 0:
            rec.locked_until = now + min(self.base_s * 2 ** (over - 1), self.max_s)

    def lock_for(self, key: str, seconds: float) -> None:
        """A lock learnt from another node (the shared counters): later checks here need no Redis."""
        rec = self._record(key)
        rec.locked_until = max(rec.locked_until, self.clock() + seconds)

    def succeeded(self, key: str) -> None:
        self._records.pop(key, None)


class Tarpit:
    """Refusals answered after ``delay_s``: a flooding client gets one refusal a second per connection
    instead of hundreds of cheap ones a second that would take the event loop from the pops. A held
    refusal is a timer, no thread; at most ``max_held`` are held, any more are answered at once."""

    def __init__(self, delay_s: float = 1.0, max_held: int = 512):
        self.delay_s, self.max_held = delay_s, max_held
        self.held = 0
        self.overflow = 0

    async def hold(self) -> None:
        if self.held >= self.max_held or self.delay_s <= 0:
            self.overflow += 1
            return
        self.held += 1
        try:
            await asyncio.sleep(self.delay_s)
        finally:
            self.held -= 1


class CpuBudget:
    """A token bucket of CPU seconds: ``share`` of one core on average, ``burst`` seconds at once."""

    def __init__(self, share: float, burst_s: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.share, self.burst_s, self.clock = share, burst_s, clock
        self._tokens = burst_s
        self._at = clock()

    def available(self) -> bool:
        now = self.clock()
        self._tokens = min(self.burst_s, self._tokens + (now - self._at) * self.share)
        self._at = now
        return self._tokens > 0

    def charge(self, cpu_s: float) -> None:
        self._tokens -= cpu_s


class SignInGuard:
    """The sign-in's guard: ``check`` (locked?), ``slot`` (room in the hashing queue and the CPU
    budget?), ``hash`` (in the hashing process), ``failed``/``succeeded`` after.

    The hashing's CPU is capped at ``hash_cpu_share`` of one core: under a flood from many addresses
    (no per-address limit trips) the hashing process would otherwise take a whole core, and on a small
    machine the pop path competes with it for the CPU even at a lower priority (a flood aimed at another
    process of the same machine delayed pops as much). Past the cap sign-ins are refused as busy."""

    def __init__(
        self,
        per_user: int = 5,
        per_address: int = 20,
        max_waiting: int = 4,
        hashing: HashProcess = HASHING,
        tarpit: Tarpit | None = None,
        hash_cpu_share: float = 0.25,
    ):
        self.users = AttemptLimiter(free=per_user)
        self.addresses = AttemptLimiter(free=per_address, window_s=300.0, max_s=300.0)
        self.max_waiting = max_waiting
        self.hashing = hashing
        self.tarpit = tarpit or Tarpit()
        self.budget = CpuBudget(hash_cpu_share)
        self.shared: SharedAttempts | None = None
        self._waiting = 0
        self.refused_busy = 0
        self.refused_locked = 0

    def share_through(self, redis: Any, prefix: str) -> None:
        """Count attempts on Redis too, with every other node of this prefix."""
        self.shared = SharedAttempts(redis, prefix, {"user": self.users, "address": self.addresses})

    @staticmethod
    def user_key(username: str) -> str:
        return username.strip().casefold()

    async def wait_s(self, username: str, address: str) -> float:
        """Seconds before this user name or address may try again: this node's counters first (a key
        locked here costs no Redis call), then the shared ones."""
        user = self.user_key(username)
        local = max(self.users.wait_s(user), self.addresses.wait_s(address))
        if local > 0 or self.shared is None:
            return local
        shared = await self.shared.wait_s({"user": user, "address": address})
        for kind, key in (("user", user), ("address", address)):
            if shared.get(kind, 0) > 0:
                (self.users if kind == "user" else self.addresses).lock_for(key, shared[kind])
        return max(shared.values(), default=0.0)

    async def check(self, username: str, address: str) -> None:
        """Refuse (after the tarpit pause) while the user name or the address is locked."""
        wait = await self.wait_s(username, address)
        if wait > 0:
            self.refused_locked += 1
            await self.tarpit.hold()
            raise TooManyAttempts(
                "too many failed sign-ins: wait and try again", details={"retry_after_s": int(wait) + 1}
            )

    def busy(self) -> bool:
        return self._waiting >= self.max_waiting or not self.budget.available()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """A place among the ``max_waiting`` checks in flight, or ``SignInBusy`` (after the pause): the
        flood is shed, never queued."""
        if self.busy():
            self.refused_busy += 1
            await self.tarpit.hold()
            raise SignInBusy("sign-in is busy, try again in a moment", details={"retry_after_s": 1})
        self._waiting += 1
        try:
            yield
        finally:
            self._waiting -= 1

    async def hash(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in the hashing process (a function of ``workstation.password_hash``), charged to
        the CPU budget."""
        try:
            result, cpu_s = await asyncio.wrap_future(self.hashing.submit(fn, *args))
        except HashingUnavailable as exc:  # the worker died under it: the next sign-in starts another
            raise SignInBusy("sign-in is busy, try again in a moment", details={"retry_after_s": 1}) from exc
        self.budget.charge(cpu_s)
        return result

    async def failed(self, username: str, address: str) -> None:
        user = self.user_key(username)
        self.users.failed(user)
        self.addresses.failed(address)
        if self.shared is not None:
            await self.shared.failed({"user": user, "address": address})

    async def succeeded(self, username: str, address: str) -> None:
        user = self.user_key(username)
        self.users.succeeded(user)
        if self.shared is not None:
            await self.shared.succeeded("user", user)

    def stats(self) -> dict[str, int]:
        return {
            "in_flight": self._waiting,
            "refused_busy": self.refused_busy,
            "refused_locked": self.refused_locked,
            "tarpit_held": self.tarpit.held,
            "tarpit_overflow": self.tarpit.overflow,
        }

    def close(self) -> None:
        """The hashing process is the server process's, shared by its guards: it ends with it."""


def client_address(scope: Any, trusted_proxies: Any) -> str:
    """The client's address: the peer, or the first X-Forwarded-For hop when the peer is a trusted proxy
    (behind a proxy every peer is the proxy: one guesser would lock everybody out)."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    if peer in trusted_proxies:
        for name, value in scope.get("headers") or ():
            if name == b"x-forwarded-for":
                forwarded = bytes(value).decode("latin-1").split(",")[0].strip()
                if forwarded:
                    return forwarded[:64]
    return peer
