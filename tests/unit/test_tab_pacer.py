"""Websocket handshakes at a bounded rate (``workstation.tab_pacer``), on a fake clock."""

from __future__ import annotations

import pytest

from tests.support.clock import ManualClock
from workstation.tab_pacer import TabPacer


def test_a_burst_starts_at_once_and_the_rest_wait_their_turn_one_interval_apart() -> None:
    clock = ManualClock()
    pacer = TabPacer(per_s=10, burst=3, max_wait_s=5, clock=clock)
    waits = [pacer.turn() for _ in range(6)]  # six tabs at the same instant
    assert waits == pytest.approx([0, 0, 0, 0.1, 0.2, 0.3])
    assert pacer.stats() == {"waited": 3, "refused": 0}


def test_a_quiet_moment_gives_the_burst_back() -> None:
    clock = ManualClock()
    pacer = TabPacer(per_s=10, burst=3, max_wait_s=5, clock=clock)
    for _ in range(6):
        pacer.turn()
    clock.now += 1.0  # the queue has long gone through
    assert [pacer.turn() for _ in range(4)] == pytest.approx([0, 0, 0, 0.1])


def test_a_tab_that_would_wait_too_long_is_refused_and_takes_no_turn() -> None:
    clock = ManualClock()
    pacer = TabPacer(per_s=2, burst=1, max_wait_s=1.0, clock=clock)
    assert [pacer.turn() for _ in range(3)] == pytest.approx([0, 0.5, 1.0])
    assert pacer.turn() is None  # 1.5 s: over the limit
    assert pacer.turn() is None
    clock.now += 0.5
    assert pacer.turn() == pytest.approx(1.0)  # the refused ones did not push the schedule back
    assert pacer.stats() == {"waited": 3, "refused": 2}


def test_zero_per_second_is_no_pacing() -> None:
    pacer = TabPacer(per_s=0, burst=1, max_wait_s=1.0, clock=ManualClock())
    assert {pacer.turn() for _ in range(1000)} == {0.0}
