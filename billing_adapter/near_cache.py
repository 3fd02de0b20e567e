"""An in-process copy of recently used billing-cache entries, in front of the shared (Redis) cache.

With Redis, a warm card lookup on the AMI node cost two round trips (the number, then profile + balance),
each a scheduler wake-up of redis-server and of our loop on a small box, on the pop path of a direct
call. This keeps the entries this process has just read or written, trusted only while the entry itself
is fresh (its own ``fresh`` seconds, as in Redis) and only while billing's change notices reach this
process: a notice drops the subscriber's entries here as it does in Redis.

A read that was in flight while a notice arrived must not bring the old value back: ``epoch`` counts the
drops, and ``put`` from a read is refused if a drop happened since the read started.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any


class NearCache:
    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.epoch = 0
        self._entries: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: str, entry: dict[str, Any], since_epoch: int | None = None) -> None:
        """Keep ``entry``; ``since_epoch``: the epoch when the read that returned it started."""
        if since_epoch is not None and since_epoch != self.epoch:
            return
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def drop(self, *keys: str) -> None:
        self.epoch += 1
        for key in keys:
            self._entries.pop(key, None)

    def trusted(self, listening: bool) -> bool:
        """Whether to use the entries now: only while change notices reach us; else they are dropped."""
        if not listening and self._entries:
            self.clear()
        return listening

    def clear(self) -> None:
        self.epoch += 1
        self._entries.clear()
