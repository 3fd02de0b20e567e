from __future__ import annotations

import asyncio
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

    def __init__(self, url: str, prefix: str = "ws"):
        self.url = url
        self.prefix = prefix + ":bus:"
        self._subs: list[tuple[str, Listener]] = []
        self._redis: aioredis.Redis | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._connected = False
        self._pub: aioredis.Redis | None = None
        self._was_connected = False
        # called (no arguments) when the subscription is back after a loss: hubs ask their tabs to resync
        self.reconnect_listeners: list[Callable[[], Awaitable[None]]] = []

    async def start(self) -> None:
        self._redis = aioredis.from_url(self.url, decode_responses=True)
        # publishing has short timeouts: with Redis away a push fails fast and goes local (see Hub)
        # one connection, pipelined (redis_publisher.py); no client-info handshake on (re)connect
        self._pub = aioredis.from_url(
            self.url,
            decode_responses=True,
            socket_connect_timeout=0.5,
            socket_timeout=0.5,
            lib_name=None,
            lib_version=None,
        )
        self._publisher = PipelinedPublisher(self._pub)
        self._task = asyncio.create_task(self._reader(), name="redis-bus-reader")
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=5)
        except TimeoutError:
            log.error("redis bus: not subscribed after 5 s (%s)", self.url)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        if self._redis:
            await self._redis.aclose()
        if self._pub:
            await self._publisher.stop()
            await self._pub.aclose()

    def subscribe(self, pattern: str, listener: Listener) -> None:
        self._subs.append((pattern, listener))

    async def publish(self, channel: str, message: Message) -> None:
        assert self._pub is not None, "bus not started"
        if not self._connected:
            raise BusUnavailable("redis bus is not connected")
        await self._publisher.publish(self.prefix + channel, json.dumps(message, default=str))

    async def _reader(self) -> None:
        delay = 0.2
        while True:
            assert self._redis is not None
            pubsub = self._redis.pubsub()
            try:
                await pubsub.psubscribe(self.prefix + "*")
                self._connected = True
                self._ready.set()
                delay = 0.2
                if self._was_connected:
                    log.warning("redis bus: connection back")
                    for listener in list(self.reconnect_listeners):
                        try:
                            await listener()
                        except Exception:
                            log.exception("redis bus: reconnect listener failed")
                self._was_connected = True
                async for item in pubsub.listen():
                    if item.get("type") != "pmessage":
                        continue
                    channel = item["channel"][len(self.prefix) :]
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
                try:
                    await pubsub.aclose()
                except Exception:
                    pass

    def health(self) -> dict[str, Any]:
        return {"backend": "redis", "ok": self._connected}
