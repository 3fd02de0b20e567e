from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from billing_adapter.changes import close_pubsub
from workstation.bus.frames import decoded, frame_of
from workstation.bus.memory import dispatch, matches
from workstation.bus.ports import Accepts, Listener, Message, new_node_id
from workstation.bus.redis_publisher import PipelinedPublisher

log = logging.getLogger(__name__)


class BusUnavailable(ConnectionError):
    """Redis is away: the message was not published."""


class RedisBus:
    """Redis pub/sub: a node delivers its own messages to its own listeners at once, publishes them on
    Redis for the other nodes, and delivers what the other nodes published.

    A published payload is ``<node id>\n<JSON>``: the JSON is the frame's text, encoded once for Redis and
    every websocket; a node skips its own messages coming back from Redis (it had them first, without the
    round trip), and does not decode a message none of its listeners accepts (a pop for an operator
    connected to another node). The reader reconnects with back-off when Redis restarts.
    """

    def __init__(self, redis: aioredis.Redis, prefix: str = "ws", node: str | None = None):
        """``redis``: the process's shared client, whose short socket timeouts make a publish with Redis
        away fail fast (the push goes local, see Hub); its owner closes it, not the bus."""
        self._redis = redis
        self.prefix = prefix + ":bus:"
        self.node = node or new_node_id()
        self._origin = f"{self.node}\n"
        self._node_b = self.node.encode()
        self._subs: list[tuple[str, Listener]] = []
        self._accepts: list[tuple[str, Accepts | None]] = []
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

    def subscribe(self, pattern: str, listener: Listener, accepts: Accepts | None = None) -> None:
        self._subs.append((pattern, listener))
        self._accepts.append((pattern, accepts))

    async def publish(self, channel: str, message: Message) -> None:
        frame = frame_of(message)
        await dispatch(self._subs, channel, frame)  # this node's tabs: no round trip through Redis
        if not self._connected:
            raise BusUnavailable("redis bus is not connected")
        # the other nodes' copy: queued, not waited for (each round trip to the Redis process costs a
        # scheduler wake-up, milliseconds on a busy machine); failures counted in ``remote_failures``
        self._publisher.send(self.prefix + channel, self._origin + frame.text)

    @property
    def remote_failures(self) -> int:
        """Messages this node published that Redis did not take (the other nodes missed them)."""
        return self._publisher.failed

    async def flush(self) -> None:
        """Wait until what this node published so far has reached Redis (or failed)."""
        await self._publisher.flush()

    def _wanted(self, channel: str) -> bool:
        return any(matches(p, channel) and (ok is None or ok(channel)) for p, ok in self._accepts)

    def _received(self, channel: str, data: bytes | str) -> Message | None:
        """What another node published, decoded; None for this node's own messages, for messages nobody
        here wants, and for what is no JSON object."""
        raw = data.encode() if isinstance(data, str) else data
        origin, sep, body = raw.partition(b"\n")
        if not sep:  # no origin (not published by a RedisBus)
            body = origin
        elif origin == self._node_b:
            return None
        if not self._wanted(channel):
            return None
        try:
            return decoded(body.decode())
        except ValueError:  # UnicodeDecodeError too
            log.warning("redis bus: dropped a non-JSON message on %s", channel)
            return None

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
                    message = self._received(channel, item["data"])
                    if message is not None:
                        await dispatch(self._subs, channel, message)
            except Exception as exc:
                self._connected = False
                log.warning("redis bus: connection lost (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                await close_pubsub(pubsub)

    def health(self) -> dict[str, Any]:
        return {"backend": "redis", "ok": self._connected}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
