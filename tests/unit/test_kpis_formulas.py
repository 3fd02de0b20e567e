"""The contact-center formulas at their edges, through the live counters the wallboard shows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from telephony.events import (
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallOfferWithdrawn,
    CallQueued,
    QueueCallTimes,
)
from workstation.bus.memory import MemoryBus
from workstation.kpis import formulas as f
from workstation.kpis.service import KpiService

T0 = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC).timestamp()
AGENTS = {"Local/1001@agents/n": 1, "Local/1002@agents/n": 2}


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Directory:
    def user_for(self, agent: str, extension: str | None = None) -> int | None:
        return AGENTS.get(agent)

    def is_agent_number(self, number: str) -> bool:
        return number in ("1001", "1002")


class Writer:
    def __init__(self) -> None:
        self.ops: list[tuple[str, str, dict[str, Any]]] = []

    def put(self, kind: str, call_id: str, **fields: Any) -> None:
        self.ops.append((kind, call_id, fields))

    def fields_of(self, call_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for kind, cid, fields in self.ops:
            if kind == "upsert" and cid == call_id:
                out.update(fields)
        return out


def make(t: float = T0, **rules: Any) -> tuple[KpiService, Clock, Writer]:
    clock, writer = Clock(t), Writer()
    svc = KpiService(None, None, MemoryBus(), writer, Directory(), f.Rules(**rules), tz="UTC", clock=clock)  # type: ignore[arg-type]
    return svc, clock, writer


def queued_call(svc: KpiService, cid: str, at: float, queue: str = "support") -> None:
    svc.on_call_event(CallQueued(cid, at, caller="+79161234567", queue=queue))


def answer(svc: KpiService, cid: str, at: float, agent: str = "Local/1001@agents/n") -> None:
    svc.on_call_event(CallOffered(cid, at, caller="+79161234567", agent=agent))
    svc.on_call_event(CallAnswered(cid, at, caller="+79161234567", agent=agent, queue="support"))


def board(svc: KpiService, window: str = "15m", queue: str = "*") -> dict[str, Any]:
    return svc.live.snapshot()["figures"][window][queue]  # type: ignore[no-any-return]


def test_call_answered_exactly_at_threshold_meets_service_level() -> None:
    svc, clock, _ = make(threshold_s=20)
    queued_call(svc, "a", T0)
    answer(svc, "a", T0 + 20.9)  # 20 whole seconds on the PBX clock
    queued_call(svc, "b", T0 + 1)
    answer(svc, "b", T0 + 22.0)  # 21 s: one second late
    clock.t = T0 + 30
    fig = board(svc)
    assert (fig["offered"], fig["answered"], fig["answered_in_sl"]) == (2, 2, 1)
    assert fig["service_level_pct"] == 50.0
    assert fig["asa_s"] == 20.5


def test_whole_seconds_count_clock_ticks_like_asterisk() -> None:
    assert f.whole_seconds(100.9, 121.0) == 21  # 20.1 s apart, but time() read 100 and 121
    assert f.whole_seconds(100.0, 120.99) == 20
    assert f.whole_seconds(10.0, 5.0) == 0


@pytest.mark.parametrize(
    ("wait", "short", "abandoned", "sl"),
    [(5, 1, 0, 100.0), (6, 0, 1, 50.0)],
)
def test_abandoned_within_grace_is_counted_apart(wait: int, short: int, abandoned: int, sl: float) -> None:
    svc, clock, _ = make(short_abandon_s=5, abandoned="missed")
    queued_call(svc, "ok", T0)
    answer(svc, "ok", T0 + 3)
    queued_call(svc, "gone", T0)
    svc.on_call_event(CallAbandoned("gone", T0 + wait, caller="+7916", queue="support"))
    clock.t = T0 + 60
    fig = board(svc)
    assert (fig["offered"], fig["abandoned_short"], fig["abandoned"]) == (2, short, abandoned)
    assert fig["service_level_pct"] == sl
    assert fig["abandon_rate_pct"] == (50.0 if abandoned else 0.0)  # 1 of 2 calls that count


def test_abandoned_treatment_is_a_setting() -> None:
    counts = f.zero()
    # 3 answered (2 within the threshold), 1 abandoned within the threshold, 1 after it, 1 short
    for name, value in {
        "offered": 6,
        "answered": 3,
        "answered_in_sl": 2,
        "abandoned": 2,
        "abandoned_short": 1,
        "abandoned_in_sl": 2,
    }.items():
        counts[f.INDEX[name]] = value
    assert f.service_level(counts, "ignored") == round(100 * 2 / 3, 1)  # Asterisk ServicelevelPerf
    assert f.service_level(counts, "missed") == 40.0  # 2 / (3 + 2)
    assert f.service_level(counts, "met_within_threshold") == round(100 * 4 / 6, 1)  # ServicelevelPerf2
    with pytest.raises(ValueError, match="kpi_sl_abandoned"):
        f.Rules(abandoned="sometimes")


def test_call_waiting_past_threshold_drops_service_level_before_it_ends() -> None:
    svc, clock, _ = make(threshold_s=20)
    queued_call(svc, "a", T0)
    answer(svc, "a", T0 + 2)
    queued_call(svc, "w", T0 + 5)
    clock.t = T0 + 25  # waiting 20 s: can still be met
    assert board(svc)["service_level_pct"] == 100.0
    clock.t = T0 + 26  # 21 s: can no longer be met
    fig = board(svc)
    assert fig["service_level_pct"] == 50.0
    assert fig["waiting_over_threshold"] == 1
    assert svc.live.snapshot()["queue_now"]["support"] == {"waiting": 1, "oldest_since": T0 + 5}


def test_after_call_work_across_midnight_belongs_to_the_call_and_its_day() -> None:
    start = datetime(2026, 12, 1, 23, 58, 0, tzinfo=UTC).timestamp()
    svc, clock, writer = make(start)
    svc.agent_state(1, "ready", start - 600)
    queued_call(svc, "late", start)
    answer(svc, "late", start + 10)
    svc.agent_state(1, "on_call", start + 10)
    clock.t = start + 90
    svc.on_call_event(CallEnded("late", start + 90, agent="Local/1001@agents/n"))
    svc.agent_state(1, "wrap_up", start + 90)
    clock.t = start + 180  # 00:01:00 the next day
    svc.agent_state(1, "ready", start + 180)
    assert writer.fields_of("late")["acw_s"] == 90
    assert board(svc, "60m")["acw_s"] == 90
    assert board(svc, "60m")["aht_s"] == 80 + 90
    svc.live.tick()  # the day rolls over: today starts empty, the call stays with the day it came
    assert board(svc, "today")["offered"] == 0
    assert board(svc, "today")["acw_done"] == 0
    assert board(svc, "60m")["talk_s"] == 80


def test_call_moved_between_operators_counts_once_for_the_one_who_answered() -> None:
    svc, clock, writer = make()
    queued_call(svc, "m", T0)
    svc.on_call_event(CallOffered("m", T0 + 1, caller="+7916", agent="Local/1001@agents/n"))
    svc.on_call_event(CallOfferWithdrawn("m", T0 + 6, agent="Local/1001@agents/n", reason="no_answer"))
    svc.on_call_event(CallOffered("m", T0 + 7, caller="+7916", agent="Local/1002@agents/n"))
    svc.on_call_event(CallAnswered("m", T0 + 9.2, caller="+7916", agent="Local/1002@agents/n", ring_s=2.2))
    svc.on_call_event(QueueCallTimes("m", T0 + 9.3, source="connect", hold_s=9, ring_s=2))
    svc.on_call_event(CallEnded("m", T0 + 14.5, agent="Local/1002@agents/n"))
    svc.on_call_event(QueueCallTimes("m", T0 + 14.5, source="complete", hold_s=9, talk_s=5))
    fields = writer.fields_of("m")
    assert (fields["offers"], fields["wait_s"], fields["ring_s"], fields["talk_s"]) == (2, 9, 2, 5)
    assert svc.live.facts["m"].operator_id == 2
    clock.t = T0 + 20
    fig = board(svc)
    assert (fig["offered"], fig["answered"], fig["talked"], fig["talk_s"]) == (1, 1, 1, 5)


def test_asterisk_hold_time_wins_over_our_clock() -> None:
    svc, clock, _ = make(threshold_s=5)
    queued_call(svc, "x", T0 + 0.99)
    answer(svc, "x", T0 + 6.0)  # our ticks say 6 s: missed
    clock.t = T0 + 10
    assert board(svc)["answered_in_sl"] == 0
    svc.on_call_event(QueueCallTimes("x", T0 + 6.0, source="connect", hold_s=5, ring_s=1))
    assert board(svc)["answered_in_sl"] == 1
    assert board(svc)["asa_s"] == 5.0


def test_repeated_events_count_once_and_internal_calls_not_at_all() -> None:
    svc, clock, _ = make()
    for _ in range(3):
        queued_call(svc, "r", T0)
        answer(svc, "r", T0 + 4)
    svc.on_call_event(CallOffered("int", T0, caller="1002", agent="Local/1001@agents/n"))
    clock.t = T0 + 10
    fig = board(svc)
    assert (fig["offered"], fig["answered"], fig["wait_answered_s"]) == (1, 1, 4)
    assert "int" not in svc.live.facts


def test_rolling_window_forgets_calls_that_started_before_it() -> None:
    svc, clock, _ = make()
    queued_call(svc, "old", T0)
    answer(svc, "old", T0 + 3)
    clock.t = T0 + 16 * 60
    queued_call(svc, "new", clock.t)
    svc.live.tick()
    assert board(svc, "15m")["offered"] == 1
    assert board(svc, "30m")["offered"] == 2
    assert board(svc, "today")["offered"] == 2


def test_occupancy_is_busy_time_over_busy_and_ready_time() -> None:
    svc, clock, _ = make()
    svc.agent_state(1, "ready", T0)
    svc.agent_state(1, "on_call", T0 + 300)
    svc.agent_state(1, "wrap_up", T0 + 540)
    svc.agent_state(1, "paused", T0 + 600)  # pauses count neither way
    clock.t = T0 + 900
    assert svc.live.snapshot()["occupancy_pct"]["15m"] == 50.0
    assert svc.live.snapshot()["agent_states"]["paused"] == 1
