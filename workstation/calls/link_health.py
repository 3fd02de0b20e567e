"""The PBX link's health as every server node shows it.

Only the node holding the AMI consumer lock has a connected telephony adapter; a supervisor's floor may be
served by any node. So the connected node publishes its adapter's ``health()`` on the bus (at every link
change and every ``interval_s``), and a node whose own adapter is not connected shows the last health
received while it is fresh (``fresh_s``); after that, its own (``down``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from telephony.ports import Telephony
from workstation.bus import Bus
from workstation.bus.ports import new_node_id

log = logging.getLogger(__name__)

CHANNEL = "telephony.health"
FIELDS = ("state", "problems", "pauses_pending", "last_error")


class LinkHealth:
    def __init__(
        self,
        bus: Bus,
        telephony: Telephony | None,
        interval_s: float = 5.0,
        fresh_s: float = 15.0,
        node: str | None = None,
    ) -> None:
        self.bus, self.telephony = bus, telephony
        self.interval_s, self.fresh_s = interval_s, fresh_s
        self.node = node or new_node_id()
        self._remote: tuple[float, dict[str, Any]] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.bus.subscribe(CHANNEL, self._received)
        if self.telephony is not None and self._task is None:
            self._task = asyncio.create_task(self._publish_while_connected(), name="telephony-health")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def local(self) -> dict[str, Any]:
        if self.telephony is None:
            return {"state": "disabled", "problems": [], "pauses_pending": 0, "last_error": None}
        health = self.telephony.health()
        return {k: health.get(k) for k in FIELDS}

    def current(self) -> dict[str, Any]:
        """This node's health when its adapter is connected, else the connected node's while fresh."""
        mine = self.local()
        if mine["state"] in ("ok", "degraded", "disabled") or self._remote is None:
            return mine
        at, theirs = self._remote
        return theirs if time.monotonic() - at < self.fresh_s else mine

    async def publish(self) -> None:
        """Tell the other nodes (only a connected adapter speaks for the link)."""
        mine = self.local()
        if mine["state"] in ("ok", "degraded"):
            await self.bus.publish(CHANNEL, {"node": self.node, "health": mine})

    async def _publish_while_connected(self) -> None:
        while True:
            try:
                await self.publish()
            except Exception as exc:  # the bus may be down for a moment: the next round tries again
                log.warning("telephony health not published: %s", type(exc).__name__)
            await asyncio.sleep(self.interval_s)

    async def _received(self, _: str, message: dict[str, Any]) -> None:
        if message.get("node") != self.node and isinstance(message.get("health"), dict):
            self._remote = (time.monotonic(), message["health"])
