"""Publishing on Redis through one connection, pipelined: what is waiting goes out in one round trip.

With a connection pool, every publish in flight holds a connection of its own. When the event loop falls
behind (a busy machine), publishes pile up, the pool opens more connections (each costs a TCP connect and
a handshake, 2-5 ms of the loop's time in redis-py), the loop falls further behind: measured with
``benchmarks/screen_pop.py``, 256 new connections in 10 s and pops seconds late. Here one task sends
whatever has been queued since its last round trip as one pipeline, in order (a ``call.offered`` is never
overtaken by the ``call.withdrawn`` that follows it), and each caller gets its own result or error.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

MAX_BATCH = 500


class PipelinedPublisher:
    """``await publish(channel, text)``: sent with the others queued meanwhile; raises what Redis raised."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis
        self._queue: deque[tuple[str, str, asyncio.Future[None]]] = deque()
        self._task: asyncio.Task[None] | None = None
        self.round_trips = 0

    async def publish(self, channel: str, text: str) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((channel, text, done))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._send(), name="redis-bus-publisher")
        await done

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
                    done.cancel()
                raise
            except Exception as exc:  # each caller decides (the hub delivers locally)
                error = exc
            for _, _, done in batch:
                if done.done():
                    continue
                if error is None:
                    done.set_result(None)
                else:
                    done.set_exception(error)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        while self._queue:
            self._queue.popleft()[2].cancel()
