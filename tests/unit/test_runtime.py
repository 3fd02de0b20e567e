"""The interpreter set for the pop path: background threads yield the CPU to the event loop's thread, and a
floor reconnecting does not make the collector walk every new tab again and again."""

from __future__ import annotations

import gc
import os
import sys
import threading
from typing import Any

import pytest

from tests.support.clock import ManualClock
from workstation.runtime import TabWave, lower_thread_priority


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_a_background_thread_runs_at_a_lower_priority_than_the_rest() -> None:
    seen: dict[str, int] = {}

    def work() -> None:
        lower_thread_priority(10)
        seen["worker"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen["worker"] == min(before + 10, 19)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before  # this thread untouched


def test_a_floor_reconnecting_is_a_wave_and_a_trickle_of_tabs_is_not() -> None:
    clock = ManualClock()
    wave = TabWave(per_s=50, quiet_s=5.0, clock=clock)
    for _ in range(49):  # one tab every 20 ms for a second: an ordinary morning, not a wave
        wave.tab_opened()
        clock.now += 0.02
    assert not wave.active()
    for _ in range(50):  # fifty within a second: a node's floor coming back
        wave.tab_opened()
        clock.now += 0.001
    assert wave.active()
    clock.now += 4.9
    assert wave.active()  # the quiet seconds after the last fast one still count
    clock.now += 0.2
    assert not wave.active()


def _frozen(objects: list[Any]) -> int:
    """How many of ``objects`` the collector no longer sees (tracked, but in none of its generations)."""
    seen = {id(o) for generation in range(3) for o in gc.get_objects(generation)}
    return sum(1 for o in objects if gc.is_tracked(o) and id(o) not in seen)


def test_during_a_wave_what_survives_a_young_collection_is_frozen_and_not_otherwise() -> None:
    clock = ManualClock()
    wave = TabWave(per_s=1, quiet_s=5.0, clock=clock)
    others = gc.callbacks[:]  # the process's own wave (an app started by another test) stays out of this
    gc.callbacks[:] = [wave.on_gc]
    try:
        quiet = [[i] for i in range(2000)]  # lists are always tracked; alive, a young collection keeps them
        gc.collect(0)
        assert _frozen(quiet) == 0  # no wave: still in the collector's generations
        wave.tab_opened()
        tabs = [[i] for i in range(2000)]
        gc.collect(0)
        assert _frozen(tabs) == len(tabs)  # out of every later collection's walk
        assert wave.freezes >= 1  # (the allocations above may have set off young collections of their own)
    finally:
        gc.callbacks[:] = others
    del quiet, tabs
