"""The interpreter tuned for the screen pop: no long garbage-collector pauses, the event loop first.

A pop is a few hundred microseconds of Python on the event loop; what made it late (``benchmarks/
screen_pop.py``, issue 16) was the interpreter, not our code:

* full garbage collections over the start-up heap (topic model, morphology, NER, SQLAlchemy, FastAPI):
  100-400 ms with the loop stopped. The heap is collected once and frozen *before* the server takes
  traffic (``gc.freeze``: the collector never walks it again), and again once start-up jobs are done;
  young collections run on larger generations so they are rarer.
* a floor (re)connecting: a node restarted and thousands of tabs open within seconds, each leaving
  objects that live as long as the tab. The young collections walk all of them, twenty collections'
  worth at a time: 48-285 ms pauses for waves of 2,000 tabs (``screen_pop.py --pressure reconnect``).
  During such a wave what survives a young collection is frozen right after it (``TabWave``).
* the GIL: a thread running Python (the call-history writer, a sign-in, an export) keeps the GIL for the
  whole switch interval (5 ms by default) each time the event loop wakes up and asks for it, and one pop
  wakes the loop several times (AMI bytes in, the billing answer, the websocket write). A 1 ms interval
  gives the GIL back to the loop five times sooner; the worker threads lose a little throughput.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

SWITCH_INTERVAL_S = 0.001
GC_THRESHOLDS = (20_000, 20, 20)  # young collections ~ every 20k net allocations (a few ms each)


def freeze_heap(collect: bool = True) -> None:
    """Move every object alive now out of the collector's sight (``gc.freeze`` is O(1);
    ``gc.get_freeze_count`` walks the frozen list, so it is only asked at start-up).

    ``collect=True`` first runs one full collection (a pause: only before traffic)."""
    if collect:
        gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class TabWave:
    """Is a floor (re)connecting? While tabs open at ``per_s`` a second or more (and for ``quiet_s``
    after), each young collection's survivors are frozen as it ends (``gc.freeze``, O(1)): the new tabs'
    objects are then never walked again, where the next collections of the middle generation would walk
    them all. The price: a reference cycle among them that becomes garbage later (a closed tab's) stays,
    it is never collected; a wave of 2,000 tabs leaves about that many objects (README, issue 16)."""

    def __init__(
        self, per_s: int = 50, quiet_s: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_s, self.quiet_s, self.clock = per_s, quiet_s, clock
        self._second, self._opened = 0.0, 0
        self.until = float("-inf")
        self.freezes = 0

    def tab_opened(self) -> None:
        now = self.clock()
        if now - self._second >= 1.0:
            self._second, self._opened = now, 0
        self._opened += 1
        if self._opened >= self.per_s:
            self.until = now + self.quiet_s

    def active(self) -> bool:
        return self.clock() < self.until

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        """A ``gc.callbacks`` entry: the collection is over when it is called, its lists are whole."""
        if phase == "stop" and info["generation"] == 0 and self.active():
            gc.freeze()
            self.freezes += 1

    def install(self) -> None:
        if self.on_gc not in gc.callbacks:
            gc.callbacks.append(self.on_gc)


WAVE = TabWave()  # one per process, as the collector is


def tune_for_pops() -> None:
    """Called once at start-up, before the server accepts connections."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    freeze_heap(collect=True)
    WAVE.install()
    log.info(
        "heap frozen before serving: %d objects; GIL switch interval %.1f ms",
        gc.get_freeze_count(),
        1000 * SWITCH_INTERVAL_S,
    )


async def refreeze_later(delays_s: tuple[float, ...] = (30.0, 120.0)) -> None:
    """Freeze again (no collection, no pause) what start-up jobs loaded after the server started
    (the first topic model, dictionaries): a later full collection would otherwise walk it."""
    for delay in delays_s:
        await asyncio.sleep(delay)
        freeze_heap(collect=False)
        log.info("heap frozen again")


def lower_thread_priority(niceness: int = 10) -> None:
    """Make the calling thread yield the CPU to the event loop's thread: ``niceness`` more than it had
    (Linux: every thread has its own nice value; threads it starts inherit it). For background work in
    this process: sign-ins (argon2), exports, reports."""
    if not hasattr(os, "setpriority") or not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))
    except OSError as exc:  # not permitted in some containers: the work still runs, at normal priority
        log.debug("thread priority unchanged: %s", exc)
