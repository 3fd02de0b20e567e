from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from workstation.bus.memory import dispatch
from workstation.bus.ports import Listener, Message
from workstation.bus.redis_publisher import PipelinedPublisher

log = logging.getLogger(__name__)


class BusUnavailable(ConnectionError):
    """Redis is away: the message was not published."""


class RedisBus:
    """Redis pub/sub: every node publishes to Redis and delivers what Redis sends back.

    A node receives its own messages through Redis too, so delivery is the same whichever node
    published. The reader reconnects with back-off when Redis restarts.
    """

    def __init__(self, redis: aioredis.Redis, prefix: str = "ws"):
        """``redis``: the process's shared client, whose short socket timeouts make a publish with Redis
        away fail fast (the push goes local, see Hub); its owner closes it, not the bus."""
        self._redis = redis
        self.prefix = prefix + ":bus:"
        self._subs: list[tuple[str, Listener]] = []
        self._task: asyncio.Task[None] | None = None
        # one pipeline at a time, whatever is queued meanwhile in one round trip (redis_publisher.py)
        self._publisher = PipelinedPublisher(redis)
        self._ready = asyncio.Event()
        self._connected = False
        self._was_connected = False
        # called (no arguments) when the subscription is back after a loss: hubs ask their tabs to resync
        self.reconnect_listeners: list[Callable[[], Awaitable[None]]] = []

    async def start(self) -> None:
        self._task = asyncio.create_task(self._reader(), name="redis-bus-reader")
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=5)
        except TimeoutError:
            log.error("redis bus: not subscribed after 5 s")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self._publisher.stop()

    def subscribe(self, pattern: str, listener: Listener) -> None:
        self._subs.append((pattern, listener))

    async def publish(self, channel: str, message: Message) -> None:
        if not self._connected:
            raise BusUnavailable("redis bus is not connected")
        await self._publisher.publish(self.prefix + channel, json.dumps(message, default=str))

    async def _resubscribed(self) -> None:
        self._connected = True
        self._ready.set()
        if self._was_connected:
            log.warning("redis bus: connection back")
            for listener in list(self.reconnect_listeners):
                try:
                    await listener()
                except Exception:
                    log.exception("redis bus: reconnect listener failed")
        self._was_connected = True

    async def _reader(self) -> None:
        delay = 0.2
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.psubscribe(self.prefix + "*")
                await self._resubscribed()
                delay = 0.2
                while True:
                    # a bounded wait: the shared client's socket timeout is short (the card's cache reads)
                    item = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if item is None or item.get("type") != "pmessage":
                        continue
                    channel = _text(item["channel"])[len(self.prefix) :]
                    try:
                        message = json.loads(item["data"])
                    except ValueError:
                        log.warning("redis bus: dropped a non-JSON message on %s", channel)
                        continue
                    await dispatch(self._subs, channel, message)
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception as exc:
                self._connected = False
                log.warning("redis bus: connection lost (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def health(self) -> dict[str, Any]:
        return {"backend": "redis", "ok": self._connected}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
