"""Websocket handshakes at a bounded rate per node, so a floor reconnecting cannot take the screen pop's
event loop.

When a node restarts, every tab it had reconnects within seconds, to it or to the others. A handshake is
a few milliseconds of the event loop's time (HTTP upgrade, session check, first frames, and the tab's
objects for the collector): unpaced, a 2,000-tab wave kept the loop busy for ten seconds and pushed the
ringing operators' pops' p99 to 150-410 ms (``benchmarks/screen_pop.py --pressure reconnect``, issue 16).
Here handshakes start at ``per_s`` a second after a ``burst``; the others wait their turn with their
connection open (the browser only sees a slower connect), and one that would wait longer than
``max_wait_s`` is refused before it costs anything (the browser retries after its back-off).

The schedule is the generic cell rate algorithm: one number, the time the next handshake may start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from workstation.http_guards import ASGIApp, Receive, Scope, Send


class TabPacer:
    def __init__(
        self, per_s: float, burst: int, max_wait_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = 1.0 / per_s if per_s > 0 else 0.0  # 0: not paced
        self.burst_s = max(0, burst - 1) * self.interval
        self.max_wait_s = max_wait_s
        self.clock = clock
        self._next = float("-inf")  # when the next handshake would start, without the burst
        self.waited = 0  # handshakes that waited for their turn
        self.refused = 0

    def turn(self) -> float | None:
        """Seconds until this handshake may start (0: now); None: refused, the wait would be too long."""
        if self.interval == 0.0:
            return 0.0
        now = self.clock()
        scheduled = max(self._next, now)
        wait = max(0.0, scheduled - self.burst_s - now)
        if wait > self.max_wait_s:
            self.refused += 1
            return None
        self._next = scheduled + self.interval
        if wait > 0:
            self.waited += 1
        return wait

    def stats(self) -> dict[str, int]:
        return {"waited": self.waited, "refused": self.refused}


class PacedTabs:
    """ASGI middleware: websocket handshakes go through ``pacer``; everything else passes untouched."""

    def __init__(self, app: ASGIApp, pacer: TabPacer) -> None:
        self.app = app
        self.pacer = pacer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            wait = self.pacer.turn()
            if wait is None:  # closed before it is accepted: the browser sees a failed connect and retries
                await send({"type": "websocket.close", "code": 1013, "reason": "busy: reconnect later"})
                return
            if wait > 0:
                await asyncio.sleep(wait)
        await self.app(scope, receive, send)
