"""The event bus between server processes: a pub/sub port whose backend is chosen by URL.

``memory://`` — in-process, for the embedded demo and unit tests; ``redis://`` — Redis pub/sub, so every
server node's websocket hub sees every message (see encode/broadcaster for the pattern).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workstation.bus.ports import Bus, Message

if TYPE_CHECKING:
    import redis.asyncio as aioredis


def make_bus(
    url: str, redis: aioredis.Redis | None = None, prefix: str = "ws", node: str | None = None
) -> Bus:
    """The bus ``url`` names; a ``redis://`` bus runs on ``redis``, the process's shared client."""
    if url.startswith("memory://"):
        from workstation.bus.memory import MemoryBus

        return MemoryBus()
    if url.startswith(("redis://", "rediss://")):
        from workstation.bus.redis_bus import RedisBus

        if redis is None:
            raise ValueError("a redis:// bus needs the Redis client (workstation.adapters.make_redis)")
        return RedisBus(redis, prefix=prefix, node=node)
    raise ValueError(f"unknown bus URL scheme: {url.split('://')[0]}")


__all__ = ["Bus", "Message", "make_bus"]
