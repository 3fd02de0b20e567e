from __future__ import annotations

import logging
from typing import Any

from workstation.bus.ports import Accepts, Listener, Message

log = logging.getLogger(__name__)


def matches(pattern: str, channel: str) -> bool:
    return channel.startswith(pattern[:-1]) if pattern.endswith("*") else channel == pattern


class MemoryBus:
    """In-process bus: publish calls listeners directly (one process only)."""

    def __init__(self) -> None:
        self._subs: list[tuple[str, Listener]] = []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def subscribe(self, pattern: str, listener: Listener, accepts: Accepts | None = None) -> None:
        self._subs.append((pattern, listener))  # one process: every message is already decoded

    async def publish(self, channel: str, message: Message) -> None:
        await dispatch(self._subs, channel, message)

    def health(self) -> dict[str, Any]:
        return {"backend": "memory", "ok": True}


async def dispatch(subs: list[tuple[str, Listener]], channel: str, message: Message) -> None:
    for pattern, listener in list(subs):
        if matches(pattern, channel):
            try:
                await listener(channel, message)
            except Exception:  # one bad listener must not stop the others
                log.exception("bus listener failed on channel %s", channel)
