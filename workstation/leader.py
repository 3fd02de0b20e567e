"""One active node for a job (the AMI consumer, the emerging-topic run) when several server nodes run:
a Redis lock with a renewed TTL.

Without Redis (embedded: bus and cache in-process) there is one node, which is always the leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis.asyncio as aioredis

log = logging.getLogger(__name__)

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
"""


class LeaderLock:
    def __init__(self, redis: aioredis.Redis | None, key: str, ttl_ms: int = 5000):
        """``redis``: the process's shared client (None: a single node); ``key``: the lock's Redis key."""
        self._redis = redis
        self.key = key
        self.token = uuid.uuid4().hex
        self.ttl_ms = ttl_ms
        self.is_leader = False

    async def run(
        self, on_acquire: Callable[[], Awaitable[None]], on_lose: Callable[[], Awaitable[None]]
    ) -> None:
        if self._redis is None:
            self.is_leader = True
            await on_acquire()
            await asyncio.Event().wait()
            return
        period = self.ttl_ms / 1000 / 3
        while True:
            try:
                if self.is_leader:
                    if not await self._redis.eval(_RENEW, 1, self.key, self.token, self.ttl_ms):
                        log.warning("lost the %s lock; stopping its job on this node", self.key)
                        self.is_leader = False
                        await on_lose()
                elif await self._redis.set(self.key, self.token, nx=True, px=self.ttl_ms):
                    self.is_leader = True
                    log.info("this node holds %s", self.key)
                    await on_acquire()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("leader lock: %s", exc)
            await asyncio.sleep(period)

    async def release(self) -> None:
        """Give the lock up (if held) so another node takes over at once instead of after the TTL."""
        if self._redis is not None:
            with contextlib.suppress(Exception):  # Redis down: the TTL frees the lock
                await self._redis.eval(_RELEASE, 1, self.key, self.token)
        self.is_leader = False


async def run_while_leader(lock: LeaderLock, job: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``job`` (a loop) on the one node holding ``lock``; it is cancelled when the lock is
    lost and started again on whichever node takes it over."""
    task: asyncio.Task[None] | None = None

    async def acquired() -> None:
        nonlocal task
        task = asyncio.create_task(job(), name=lock.key)

    async def lost() -> None:
        if task is not None:
            task.cancel()

    try:
        await lock.run(on_acquire=acquired, on_lose=lost)
    finally:
        if task is not None:
            task.cancel()
        await lock.release()
