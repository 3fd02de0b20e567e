"""Cache writes off the card's path: queued, and sent together by one task (one round trip per batch on
Redis, over one connection) instead of one command and one task, and so one pooled connection, each.

A card billing has just returned makes three writes (the number, the profile, the balance); on a busy node
they and the writes of the pops that came meanwhile go out as one pipeline. A key written again before
its batch went keeps only its last value. Readers of this process see a queued value through
``CachedBilling``'s read-your-writes until it has landed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from billing_adapter.stores import CacheStore

log = logging.getLogger(__name__)

MAX_BATCH = 500


class WriteBehind:
    def __init__(self, store: CacheStore, keep_s: float) -> None:
        self.store = store
        self.keep_s = keep_s
        self._queue: dict[str, dict[str, Any]] = {}
        self._task: asyncio.Task[None] | None = None
        self.batches = 0

    def put(self, key: str, entry: dict[str, Any]) -> None:
        self._queue.pop(key, None)  # the latest value goes last
        self._queue[key] = entry
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._send())

    async def _send(self) -> None:
        while self._queue:
            keys = list(self._queue)[:MAX_BATCH]
            batch = [(k, self._queue.pop(k)) for k in keys]
            try:
                await self.store.set_many(batch, self.keep_s)
                self.batches += 1
            except Exception as exc:  # a cache that does not take writes is a cache miss later, no more
                log.warning("billing cache write failed: %s", type(exc).__name__)

    async def flush(self) -> None:
        """Wait until everything queued so far has been written (or has failed)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._queue.clear()
