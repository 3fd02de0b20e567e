from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

Message = dict[str, Any]
Listener = Callable[[str, Message], Awaitable[None]]


class Bus(Protocol):
    """Publish JSON-able dicts on named channels; listeners get (channel, message).

    Channels are matched by prefix pattern ending in ``*`` (``operator.*``) or exactly.
    """

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, channel: str, message: Message) -> None: ...

    def subscribe(self, pattern: str, listener: Listener) -> None:
        """Register before or after start(); the listener runs on the event loop."""
        ...

    def health(self) -> dict[str, Any]: ...
