"""Who is on the floor and in which state, the same on every node (the supervisor's floor table).

Two facts make an operator's line on the floor: whether they have a tab open (a websocket) and the
presence they are in. Neither can be read from this node alone:

* a tab is open on whichever node its websocket reached. Each node keeps the users of its own hub under a
  Redis key of its own (``<prefix>:online:<node>``, refreshed within a second of a change and expiring
  when the node goes away); the floor reads the union. With no Redis there is one node and its hub is all.
* the stored presence is written behind (the call writer batches it), so a floor read just after a
  change may still see the previous value, "offline" for an operator who just signed in. Every node
  hears each change at once as ``floor.changed`` on the bus; the latest heard wins over the stored one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from workstation.bus import Bus
from workstation.bus.ports import new_node_id
from workstation.hub import Hub

log = logging.getLogger(__name__)

PUBLISH_EVERY_S = 1.0  # how often this node looks for a change in its tabs
REFRESH_EVERY_S = 5.0  # the key is rewritten this often even without a change
TTL_S = 15  # a node that stops (crash) drops off the floor after this


class FloorPresence:
    def __init__(self, hub: Hub, bus: Bus, redis: Any | None, prefix: str, node: str | None = None) -> None:
        self.hub = hub
        self.redis = redis
        self.prefix = prefix
        self.node = node or new_node_id()
        self.heard: dict[int, str] = {}  # user → the last presence announced on the bus
        self._written: frozenset[int] | None = None
        self._written_at = 0.0
        bus.subscribe("role.supervisor", self._on_supervisor)

    @property
    def key(self) -> str:
        return f"{self.prefix}:online:{self.node}"

    async def _on_supervisor(self, _channel: str, message: dict[str, Any]) -> None:
        if message.get("type") == "floor.changed" and isinstance(message.get("user_id"), int):
            self.heard[message["user_id"]] = str(message.get("presence"))

    def presence(self, user_id: int, stored: str) -> str:
        """The operator's presence: the latest change heard, else the stored one."""
        return self.heard.get(user_id, stored)

    async def online(self) -> set[int]:
        """Users with a tab open on any node."""
        users = self.hub.connected_users()
        if self.redis is None:
            return users
        try:
            keys = [k async for k in self.redis.scan_iter(match=f"{self.prefix}:online:*", count=100)]
            if keys:
                users |= {int(u) for u in await self.redis.sunion(keys)}
        except Exception as exc:  # Redis away: this node's tabs are still known
            log.warning("other nodes' tabs unknown (%s)", type(exc).__name__)
        return users

    async def publish_once(self) -> None:
        """Write this node's users under its key when they changed (or the key is due a refresh)."""
        if self.redis is None:
            return
        users = frozenset(self.hub.connected_users())
        now = time.monotonic()
        if users == self._written and now - self._written_at < REFRESH_EVERY_S:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.key)
            if users:
                pipe.sadd(self.key, *users)
                pipe.expire(self.key, TTL_S)
            await pipe.execute()
        self._written, self._written_at = users, now

    async def run(self) -> None:
        """Background job of every node: keep this node's key current; remove it when the node stops."""
        try:
            while True:
                try:
                    await self.publish_once()
                except Exception as exc:
                    log.warning("this node's tabs not published (%s)", type(exc).__name__)
                    self._written = None
                await asyncio.sleep(PUBLISH_EVERY_S)
        finally:
            if self.redis is not None:
                with contextlib.suppress(Exception):  # else the key expires by itself
                    await self.redis.delete(self.key)
