"""Where the billing cache keeps entries: in-process (``memory://``) or Redis (``redis://``), as JSON.

Each entry is ``{"t": stored_at_epoch_s, "fresh": fresh_for_s, "v": value}``; the key lives much longer
(``keep_s``) than it is fresh, so a dead billing can still be answered with stale data, marked so.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import redis.asyncio as aioredis


class CacheStore(Protocol):
    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def get_many(self, *keys: str) -> list[dict[str, Any] | None]:
        """The entries of ``keys``, in order (one round trip on Redis)."""
        ...

    async def set(self, key: str, entry: dict[str, Any], keep_s: float) -> None: ...

    async def set_many(self, entries: list[tuple[str, dict[str, Any]]], keep_s: float) -> None:
        """Several entries at once (one round trip on Redis)."""
        ...

    async def delete(self, *keys: str) -> None: ...

    async def close(self) -> None: ...


class MemoryStore:
    """Bounded LRU dict; entries expire after ``keep_s``."""

    def __init__(self, max_entries: int = 200_000) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()

    async def get(self, key: str) -> dict[str, Any] | None:
        item = self._data.get(key)
        if item is None:
            return None
        expires, entry = item
        if time.time() > expires:
            self._data.pop(key, None)
            return None
        self._data.move_to_end(key)
        return entry

    async def get_many(self, *keys: str) -> list[dict[str, Any] | None]:
        return [await self.get(k) for k in keys]

    async def set(self, key: str, entry: dict[str, Any], keep_s: float) -> None:
        self._data[key] = (time.time() + keep_s, entry)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    async def set_many(self, entries: list[tuple[str, dict[str, Any]]], keep_s: float) -> None:
        for key, entry in entries:
            await self.set(key, entry, keep_s)

    async def delete(self, *keys: str) -> None:
        for k in keys:
            self._data.pop(k, None)

    async def close(self) -> None:
        self._data.clear()


class RedisStore:
    """Redis strings holding JSON, with a key TTL of ``keep_s``; keys under ``<prefix>:billing:``."""

    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        """``redis``: a client with short socket timeouts (a cache that does not answer counts as a miss);
        it is shared, and closed by its owner."""
        self.redis = redis
        self.prefix = f"{prefix}:billing:"

    async def get(self, key: str) -> dict[str, Any] | None:
        raw = await self.redis.get(self.prefix + key)
        return None if raw is None else json.loads(raw)

    async def get_many(self, *keys: str) -> list[dict[str, Any] | None]:
        raws = await self.redis.mget([self.prefix + k for k in keys])
        return [None if raw is None else json.loads(raw) for raw in raws]

    async def set(self, key: str, entry: dict[str, Any], keep_s: float) -> None:
        await self.redis.set(self.prefix + key, json.dumps(entry, ensure_ascii=False), px=int(keep_s * 1000))

    async def set_many(self, entries: list[tuple[str, dict[str, Any]]], keep_s: float) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for key, entry in entries:
            pipe.set(self.prefix + key, json.dumps(entry, ensure_ascii=False), px=int(keep_s * 1000))
        await pipe.execute()

    async def delete(self, *keys: str) -> None:
        if keys:
            await self.redis.delete(*(self.prefix + k for k in keys))

    async def close(self) -> None:
        """Nothing of its own to close: the client belongs to whoever built it."""
