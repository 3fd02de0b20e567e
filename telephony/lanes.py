"""Call events delivered in order per call, calls concurrently.

``CallLanes`` sits between the AMI reader and the workstation's handler: events go in with ``put`` as
the normaliser makes them; ``run`` (one dispatcher task) gives each call id a lane, a task that hands
that call's events to the handler one after the other. A slow card lookup for one call therefore never
delays the pop of another; events without a call id share one lane. A failing handler is logged and does
not stop the stream.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from telephony.events import CallEvent
from telephony.ports import EventHandler

log = logging.getLogger("telephony.ami")  # the name these records have always had


class CallLanes:
    def __init__(self) -> None:
        self.handler: EventHandler | None = None
        self.tasks: set[asyncio.Task[None]] = set()  # the lanes running now
        self._out: asyncio.Queue[CallEvent] = asyncio.Queue()

    def put(self, events: list[CallEvent]) -> None:
        for ev in events:
            self._out.put_nowait(ev)
        if self._out.qsize() > 1000:
            log.warning("call event handler is behind: %d events waiting", self._out.qsize())

    async def run(self) -> None:
        """The dispatcher: one lane per call id with events waiting."""
        lanes: dict[str, deque[CallEvent]] = {}
        while True:
            ev = await self._out.get()
            lane = lanes.get(ev.call_id)
            if lane is not None:
                lane.append(ev)
            else:
                lanes[ev.call_id] = deque([ev])
                task = asyncio.create_task(self._run_lane(ev.call_id, lanes))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
            self._out.task_done()

    async def drain(self) -> None:
        """Wait until every event put so far has been handled: the queue and every lane empty."""
        await self._out.join()
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def _run_lane(self, key: str, lanes: dict[str, deque[CallEvent]]) -> None:
        lane = lanes[key]
        try:
            while lane:
                ev = lane.popleft()
                if self.handler is None:
                    continue
                try:
                    await self.handler(ev)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("call event handler failed on %s", type(ev).__name__)
        finally:
            lanes.pop(key, None)
