"""A shutdown that always ends: every step has a deadline, and a step that misses it is named in the log
(with where it was waiting) and left behind, so SIGTERM, a restart or a test's teardown never hangs on
one stuck adapter. A CI run once waited 300 s in the lifespan's shutdown, its event loop idle: some step
was awaiting a future that nothing would ever complete, and nothing said which."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Iterable

log = logging.getLogger(__name__)

STEP_S = 10.0  # longer than any step's own bounded wait (the call writer's flush: 10 s)


def _where(task: asyncio.Task[object]) -> str:
    out = io.StringIO()
    task.print_stack(limit=8, file=out)
    return out.getvalue()


async def cancel_all(tasks: Iterable[asyncio.Task[None]], deadline_s: float | None = None) -> list[str]:
    """Cancel the tasks and wait for them to end; the names of those still running after ``deadline_s``
    (logged with their stacks: one that swallowed its cancellation)."""
    deadline_s = STEP_S if deadline_s is None else deadline_s
    pending = [t for t in tasks if not t.done()]
    for t in pending:
        t.cancel()
    if not pending:
        return []
    _, stuck = await asyncio.wait(pending, timeout=deadline_s)
    for t in stuck:
        log.error(
            "shutdown: task %s still running %.0f s after it was cancelled; left behind\n%s",
            t.get_name(),
            deadline_s,
            _where(t),
        )
    for t in pending:  # retrieve what the others raised on the way out, so nothing is logged later
        if t.done() and not t.cancelled():
            exc = t.exception()
            if exc is not None:
                log.warning("shutdown: task %s ended with %s", t.get_name(), type(exc).__name__)
    return sorted(t.get_name() for t in stuck)


async def step(name: str, action: Awaitable[object], deadline_s: float | None = None) -> bool:
    """Run one shutdown step; False (logged, with where it waited) when it failed or missed the
    deadline. Either way the shutdown goes on with the next step."""
    deadline_s = STEP_S if deadline_s is None else deadline_s
    task = asyncio.ensure_future(action)
    done, _ = await asyncio.wait({task}, timeout=deadline_s)
    if not done:
        log.error(
            "shutdown: %s did not finish in %.0f s; going on without it\n%s", name, deadline_s, _where(task)
        )
        task.cancel()
        return False
    if task.cancelled():
        log.error("shutdown: %s was cancelled", name)
        return False
    exc = task.exception()
    if exc is not None:
        log.error("shutdown: %s failed (%s)", name, type(exc).__name__)
        return False
    return True
