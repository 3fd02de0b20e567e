from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

Message = dict[str, Any]
Listener = Callable[[str, Message], Awaitable[None]]
Accepts = Callable[[str], bool]


def new_node_id() -> str:
    """This server process's id among the nodes (the bus's origin, its floor key, its link health):
    made once at bootstrap and shared, so the three name the same node."""
    return uuid.uuid4().hex[:12]


class Bus(Protocol):
    """Publish JSON-able dicts on named channels; listeners get (channel, message).

    Channels are matched by prefix pattern ending in ``*`` (``operator.*``) or exactly. The publishing
    node's own listeners get a message first, from ``publish`` itself; the other nodes' from the backend.
    """

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, channel: str, message: Message) -> None:
        """Deliver to this node's listeners, then (without waiting for them) to the other nodes; raises
        when the bus is known to be away (this node's listeners have had the message all the same)."""
        ...

    def subscribe(self, pattern: str, listener: Listener, accepts: Accepts | None = None) -> None:
        """Register before or after start(); the listener runs on the event loop. ``accepts(channel)``:
        False when this node has nobody for that channel, so a message from another node need not even
        be decoded."""
        ...

    def health(self) -> dict[str, Any]: ...
