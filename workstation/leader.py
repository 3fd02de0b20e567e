"""A single active AMI consumer when several server nodes run: a Redis lock with a renewed TTL.

With an in-process cache (embedded) there is one node, which is always the leader.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from workstation.settings import Settings

log = logging.getLogger(__name__)

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
"""


class LeaderLock:
    def __init__(self, settings: Settings, name: str, ttl_ms: int = 5000):
        self.url = settings.cache_url
        self.key = f"{settings.redis_prefix}:leader:{name}"
        self.token = uuid.uuid4().hex
        self.ttl_ms = ttl_ms
        self.is_leader = False
        self._redis: Any = None

    async def run(
        self, on_acquire: Callable[[], Awaitable[None]], on_lose: Callable[[], Awaitable[None]]
    ) -> None:
        if not self.url.startswith("redis"):
            self.is_leader = True
            await on_acquire()
            await asyncio.Event().wait()
            return
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(self.url)
        period = self.ttl_ms / 1000 / 3
        while True:
            try:
                if self.is_leader:
                    if not await self._redis.eval(_RENEW, 1, self.key, self.token, self.ttl_ms):
                        log.warning("lost the %s lock; stopping the AMI consumer on this node", self.key)
                        self.is_leader = False
                        await on_lose()
                elif await self._redis.set(self.key, self.token, nx=True, px=self.ttl_ms):
                    self.is_leader = True
                    log.info("this node is the AMI consumer")
                    await on_acquire()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("leader lock: %s", exc)
            await asyncio.sleep(period)

    async def release(self) -> None:
        if self._redis is not None:
            try:
                await self._redis.eval(_RELEASE, 1, self.key, self.token)
                await self._redis.aclose()
            except Exception:
                pass


async def run_while_leader(
    settings: Settings, name: str, job: Callable[[], Coroutine[Any, Any, None]]
) -> None:
    """Run ``job`` (a loop) on the one node holding the ``name`` lock; it is cancelled when the lock is
    lost and started again on whichever node takes it over."""
    task: asyncio.Task[None] | None = None

    async def acquired() -> None:
        nonlocal task
        task = asyncio.create_task(job(), name=name)

    async def lost() -> None:
        if task is not None:
            task.cancel()

    lock = LeaderLock(settings, name)
    try:
        await lock.run(on_acquire=acquired, on_lose=lost)
    finally:
        if task is not None:
            task.cancel()
        await lock.release()
