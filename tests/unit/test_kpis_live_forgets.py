"""The live counters keep only what a board can still show: a finished call leaves once it is out of
every rolling window, a call still in after-call work stays until its work is done, and the queue now
shows the calls still waiting however many came before."""

from __future__ import annotations

from workstation.kpis import formulas as f
from workstation.kpis.live import LiveFigures

T0 = 1_796_000_400.0  # 15:00 UTC: an hour later is still the same day


def test_finished_calls_leave_after_the_hour_and_calls_in_work_stay_until_done() -> None:
    now = [T0]
    live = LiveFigures(f.Rules(), "UTC", clock=lambda: now[0])
    for n in range(200):  # answered and ended by an operator, after-call work done
        fact = live.fact(f"done{n}", T0 + n, "support")
        fact.answered_at, fact.ended_at, fact.operator_id, fact.wait_s = T0 + n + 1, T0 + n + 9, 7, 1
        fact.acw_s = 5
        live.touch(fact)
    busy = live.fact("acw", T0, "support")
    busy.answered_at, busy.ended_at, busy.operator_id, busy.wait_s = T0 + 1, T0 + 30, 7, 1
    live.touch(busy)
    now[0] = T0 + 3600 + 300
    waiting = live.fact("waits", now[0] - 5, "support")
    for _ in range(10):
        live.tick()
    assert all(live.known_finished(f"done{n}") for n in range(200))
    assert set(live.facts) == {"acw", "waits"}  # its after-call work is not over: it can still change
    assert [x.call_id for x in live.waiting()] == ["waits"]
    assert live.snapshot()["queue_now"]["support"] == {"waiting": 1, "oldest_since": waiting.start}
    busy.acw_s = 40
    live.touch(busy)
    waiting.answered_at, waiting.wait_s = now[0], 5
    live.touch(waiting)
    for _ in range(10):
        live.tick()
    assert live.known_finished("acw")
    assert live.waiting() == []
