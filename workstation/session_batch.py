"""Session checks a batch at a time: what the requests and websocket handshakes of one moment ask goes to
the DB as one query, in one thread hop.

A floor of tabs reconnecting (a node restarted, ``benchmarks/screen_pop.py --pressure reconnect``) asks
this node for hundreds of sessions a second, none of them in its few-second cache. One ORM query per tab
in the default executor's threads held the GIL beside the event loop as long as the loop itself ran
during such a wave, and the pops waited for both (issue 16). Here a check that finds no batch running
starts one at once, so a lone request waits no longer than before; those that arrive while it runs form
the next batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from workstation.models import User

ResolveMany = Callable[[list[str]], dict[str, User]]


class SessionBatch:
    """``await resolve(token)``: the token's active user or None; a DB error reaches every waiter of
    the batch. One batch runs at a time, in a thread (the query is blocking)."""

    def __init__(self, resolve_many: ResolveMany) -> None:
        self._resolve_many = resolve_many
        self._pending: dict[str, list[asyncio.Future[User | None]]] = {}
        self._runner: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batches = 0  # queries run (a test sees many checks answered by few)

    async def resolve(self, token: str) -> User | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests run one per app): nothing carries over
            self._loop, self._pending, self._runner = loop, {}, None
        fut: asyncio.Future[User | None] = loop.create_future()
        self._pending.setdefault(token, []).append(fut)
        if self._runner is None or self._runner.done():
            self._runner = loop.create_task(self._run(), name="session-batch")
        return await fut

    async def _run(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, {}
            self.batches += 1
            try:
                found = await asyncio.to_thread(self._resolve_many, list(batch))
            except asyncio.CancelledError:  # the loop is closing: nobody is left waiting for an answer
                for fut in (f for futs in batch.values() for f in futs):
                    fut.cancel()
                raise
            except Exception as exc:
                for fut in (f for futs in batch.values() for f in futs):
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for token, futs in batch.items():
                user = found.get(token)
                for fut in futs:
                    if not fut.done():  # its request went away meanwhile
                        fut.set_result(user)
