"""Billing's change notices: with a Redis cache, billing publishes a changed subscriber's id on
``<prefix>:billing:changed`` and every node drops that subscriber's cached entries.

A Redis outage never breaks a pop: the listener is restarted from the lookups, at most every 5 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis.asyncio as aioredis

log = logging.getLogger(__name__)
RETRY_S = 5.0
CLOSE_S = 2.0


async def close_pubsub(pubsub: Any) -> None:
    """Close a redis-py pubsub within ``CLOSE_S``; past it, drop its socket without waiting for the
    close handshake (redis-py's close has hung on a connection another task was reading:
    redis/redis-py#3941). Never raises."""
    try:
        await asyncio.wait_for(pubsub.aclose(), CLOSE_S)
    except Exception as exc:
        log.warning("redis pubsub not closed cleanly (%s); its socket dropped", type(exc).__name__)
        conn = getattr(pubsub, "connection", None)
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.disconnect(nowait=True), CLOSE_S)


class ChangeListener:
    def __init__(self, redis: aioredis.Redis, channel: str, on_change: Callable[[str], Awaitable[None]]):
        """``redis``: the shared client (closed by its owner); ``on_change(subscriber_id)`` per notice."""
        self.redis = redis
        self.channel = channel
        self.on_change = on_change
        self._task: asyncio.Task[None] | None = None
        self._retry_at = 0.0

    async def start(self) -> None:
        """Subscribe; returns once the subscription is active (called at start-up)."""
        if self._task is not None:
            return
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self.channel)
        self._task = asyncio.ensure_future(self._listen(pubsub))

    @property
    def listening(self) -> bool:
        """Notices reach this process now (subscribed, the listener running)."""
        return self._task is not None and not self._task.done()

    async def ensure(self) -> None:
        """Restart the listener if it is down (Redis was away), without making the caller wait long."""
        if self._task is not None or time.monotonic() < self._retry_at:
            return
        try:
            await asyncio.wait_for(self.start(), 0.5)
        except Exception as exc:
            self._retry_at = time.monotonic() + RETRY_S
            log.warning("billing change listener not started: %s", type(exc).__name__)

    async def _listen(self, pubsub: Any) -> None:
        try:
            while True:
                msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if msg and msg.get("type") == "message":
                    data = msg["data"]
                    sid = (data.decode() if isinstance(data, bytes) else str(data)).strip()
                    if sid and len(sid) <= 64:
                        await self.on_change(sid)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("billing change listener stopped: %s", type(exc).__name__)
            self._task = None
        finally:
            await close_pubsub(pubsub)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
