"""Occupancy over the rolling windows, from the running integral of operator states, is the same as
adding up every operator's every state span by hand, however the states interleave."""

from __future__ import annotations

import random

from workstation.kpis import formulas as f
from workstation.kpis.live import WINDOWS, LiveFigures

T0 = 1_796_000_400.0  # 01:00 UTC: the runs below stay within the day


def by_hand(spans: list[tuple[float, float, str]], cutoff: float) -> tuple[float, float]:
    busy = ready = 0.0
    for start, end, state in spans:
        seconds = max(0.0, end - max(start, cutoff))
        if state in ("on_call", "wrap_up"):
            busy += seconds
        elif state == "ready":
            ready += seconds
    return busy, ready


def test_windows_match_every_span_added_up() -> None:
    rng = random.Random(7)
    now = [T0]
    live = LiveFigures(f.Rules(), "UTC", clock=lambda: now[0])
    spans: list[tuple[float, float, str]] = []
    current: dict[int, tuple[float, str]] = {}
    for _ in range(6000):  # ~2.5 h of 40 operators changing state, several at the same instant
        now[0] += rng.choice((0.0, 0.5, 1.7, 3.0))
        uid = rng.randrange(40)
        state = rng.choice(("ready", "on_call", "wrap_up", "paused", "offline"))
        live.agent_state(uid, state, now[0])
        if uid in current and current[uid][1] != state:
            spans.append((current[uid][0], now[0], current[uid][1]))
            current[uid] = (now[0], state)
        elif uid not in current:
            current[uid] = (now[0], state)
        live.tick()
    now[0] += 42.0
    got = live.snapshot()["occupancy_pct"]
    open_spans = [(since, now[0], state) for since, state in current.values()]
    midnight = T0 - T0 % 86400
    for w, length in WINDOWS.items():
        cutoff = midnight if length is None else now[0] - length
        assert got[w] == f.occupancy(*by_hand(spans + open_spans, cutoff)), w
    assert got["15m"] != got["60m"]  # the windows really differ: the test compares something


def test_a_window_before_anyone_was_seen_counts_only_what_was() -> None:
    now = [T0]
    live = LiveFigures(f.Rules(), "UTC", clock=lambda: now[0])
    live.agent_state(1, "ready", T0)
    live.agent_state(1, "on_call", T0 + 60)
    now[0] = T0 + 240
    occupancy = live.snapshot()["occupancy_pct"]
    assert occupancy["15m"] == occupancy["60m"] == 75.0


def test_today_starts_at_midnight_with_the_states_in_force_then() -> None:
    midnight = T0 - T0 % 86400 + 86400  # the next day
    now = [midnight - 600]
    live = LiveFigures(f.Rules(), "UTC", clock=lambda: now[0])
    live.agent_state(1, "ready", midnight - 600)
    live.agent_state(1, "on_call", midnight - 120)  # on the call across midnight
    now[0] = midnight + 60
    live.tick()  # the day rolls over
    assert live.snapshot()["occupancy_pct"]["today"] == 100.0  # one minute on the call, none ready
    live.agent_state(1, "ready", midnight + 90)
    now[0] = midnight + 120
    assert live.snapshot()["occupancy_pct"]["today"] == 75.0  # 90 s busy, 30 s ready
    assert live.snapshot()["occupancy_pct"]["15m"] == round(100 * 210 / (210 + 480 + 30), 1)  # from 23:47
