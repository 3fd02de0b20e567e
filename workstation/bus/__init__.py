"""The event bus between server processes: a pub/sub port whose backend is chosen by URL.

``memory://`` — in-process, for the embedded demo and unit tests; ``redis://`` — Redis pub/sub, so every
server node's websocket hub sees every message (see encode/broadcaster for the pattern).
"""

from __future__ import annotations

from workstation.bus.ports import Bus, Message


def make_bus(url: str, prefix: str = "ws") -> Bus:
    if url.startswith("memory://"):
        from workstation.bus.memory import MemoryBus

        return MemoryBus()
    if url.startswith("redis://") or url.startswith("rediss://"):
        from workstation.bus.redis_bus import RedisBus

        return RedisBus(url, prefix=prefix)
    raise ValueError(f"unknown bus URL scheme: {url.split('://')[0]}")


__all__ = ["Bus", "Message", "make_bus"]
