"""Publishing on Redis through one connection, pipelined: what is waiting goes out in one round trip.

With a connection pool, every publish in flight holds a connection of its own. When the event loop falls
behind (a busy machine), publishes pile up, the pool opens more connections (each costs a TCP connect and
a handshake, 2-5 ms of the loop's time in redis-py), the loop falls further behind: measured with
``benchmarks/screen_pop.py``, 256 new connections in 10 s and pops seconds late. Here one task sends
whatever has been queued since its last round trip as one pipeline, in order (a ``call.offered`` is never
overtaken by the ``call.withdrawn`` that follows it).

``publish`` waits for Redis and raises what it raised; ``send`` does not wait (the bus's own node has
already delivered the message, and on a busy two-core machine one round trip to the Redis process costs
milliseconds of scheduling): its failures are counted in ``failed`` and logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any

log = logging.getLogger(__name__)

MAX_BATCH = 500


class PipelinedPublisher:
    def __init__(self, redis: Any) -> None:
        self.redis = redis
        self._queue: deque[tuple[str, str, asyncio.Future[None] | None]] = deque()
        self._task: asyncio.Task[None] | None = None
        self.round_trips = 0
        self.failed = 0  # messages of ``send`` that Redis did not take
        self._last_warning = 0.0

    async def publish(self, channel: str, text: str) -> None:
        """Sent with the others queued meanwhile; raises what Redis raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._enqueue(channel, text, done)
        await done

    def send(self, channel: str, text: str) -> None:
        """Queued for the next round trip, in order with the rest; nobody waits for it."""
        self._enqueue(channel, text, None)

    def _enqueue(self, channel: str, text: str, done: asyncio.Future[None] | None) -> None:
        self._queue.append((channel, text, done))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._send(), name="redis-bus-publisher")

    async def _send(self) -> None:
        while self._queue:
            batch = [self._queue.popleft() for _ in range(min(len(self._queue), MAX_BATCH))]
            try:
                pipe = self.redis.pipeline(transaction=False)
                for channel, text, _ in batch:
                    pipe.publish(channel, text)
                await pipe.execute()
                self.round_trips += 1
                error: BaseException | None = None
            except asyncio.CancelledError:
                for _, _, done in batch:
                    if done is not None:
                        done.cancel()
                raise
            except Exception as exc:  # each caller decides (the hub delivers locally)
                error = exc
            for _, _, done in batch:
                if done is None:
                    self.failed += error is not None
                elif done.done():
                    continue
                elif error is None:
                    done.set_result(None)
                else:
                    done.set_exception(error)
            if error is not None and time.monotonic() - self._last_warning > 5:
                self._last_warning = time.monotonic()
                log.warning("redis bus: publishing failed (%s)", type(error).__name__)

    async def flush(self) -> None:
        """Wait until what is queued so far has been sent (or has failed)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        while self._queue:
            done = self._queue.popleft()[2]
            if done is not None:
                done.cancel()
