"""The wallboard's running counters: rolling 15/30/60-minute windows and today, per queue and all queues.

Each window keeps the calls that started in it (a deque in start order) and the sum of their
contributions (``formulas.contribution``); a call's change adds the difference of its contributions to
every window that holds it, expiry subtracts it. Occupancy over the rolling windows comes from the running
integral of busy and ready operators (``TimeInStates``). Everything is O(1) per event; a snapshot costs the
number of queues times windows, plus one pass over waiting calls and operators.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from workstation.kpis import formulas as f

ALL = "*"
WINDOWS: dict[str, int | None] = {"15m": 900, "30m": 1800, "60m": 3600, "today": None}
AGENT_STATES = ("ready", "on_call", "wrap_up", "paused", "offline")
BUSY = ("on_call", "wrap_up")


def day_start(now: float, tz: ZoneInfo) -> float:
    d = datetime.fromtimestamp(now, tz)
    return d.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


@dataclass
class AgentTrack:
    """One operator's state now and since when."""

    state: str
    since: float
    last_call: str | None = None  # the call whose after-call work the operator is doing


def _category(state: str | None) -> int | None:
    return 0 if state in BUSY else 1 if state == "ready" else None


class TimeInStates:
    """Busy and ready seconds of all operators together up to any moment of the last hour: a running
    integral, one point per state change (the seconds so far, and how many operators are busy and
    ready from then on). O(1) per change; the seconds of a window are two look-ups, however many
    operators and state changes it holds (a board every 0.2 s over 500 operators walked each one's
    hour of states before: milliseconds on the event loop, growing with the hour)."""

    KEEP_S = 3600.0

    def __init__(self) -> None:
        self.at: list[float] = []  # times of the points, non-decreasing
        self.points: list[tuple[float, float, int, int]] = []  # (busy_s, ready_s, busy now, ready now)

    def change(self, old: str | None, new: str, at: float) -> None:
        """An operator went from ``old`` (None: not seen before) to ``new`` at ``at``."""
        if self.at:  # a change reported out of order counts from the last point (it cannot rewrite it)
            at = max(at, self.at[-1])
            busy, ready = self.value(at)
            _, _, n_busy, n_ready = self.points[-1]
        else:
            busy = ready = 0.0
            n_busy = n_ready = 0
        for state, step in ((old, -1), (new, 1)):
            kind = _category(state)
            if kind == 0:
                n_busy += step
            elif kind == 1:
                n_ready += step
        point = (busy, ready, n_busy, n_ready)
        if self.at and self.at[-1] == at:
            self.points[-1] = point
        else:
            self.at.append(at)
            self.points.append(point)

    def value(self, t: float) -> tuple[float, float]:
        """Busy and ready seconds of everybody from the first point up to ``t``."""
        i = bisect_right(self.at, t) - 1
        if i < 0:
            return 0.0, 0.0
        busy, ready, n_busy, n_ready = self.points[i]
        elapsed = t - self.at[i]
        return busy + n_busy * elapsed, ready + n_ready * elapsed

    def between(self, start: float, end: float) -> tuple[float, float]:
        if end <= start:
            return 0.0, 0.0
        b0, r0 = self.value(start)
        b1, r1 = self.value(end)
        return b1 - b0, r1 - r0

    def forget_before(self, t: float) -> None:
        """Drop the points no window starting at ``t`` or later needs (the one in force at ``t`` stays)."""
        i = bisect_right(self.at, t) - 1
        if i > 1000:
            del self.at[:i]
            del self.points[:i]


def _final(fact: f.Fact) -> bool:
    """Nothing more will change: abandoned, after-call work over, or ended with no operator of ours."""
    return (
        fact.abandoned or fact.acw_s is not None or (fact.ended_at is not None and fact.operator_id is None)
    )


class LiveFigures:
    """Counters for the board. Feed facts with ``touch`` (after changing a ``Fact``), states with
    ``agent_state``; call ``tick`` about once a second; read with ``snapshot``."""

    def __init__(self, rules: f.Rules, tz: str = "UTC", clock: Callable[[], float] = time.time) -> None:
        self.rules = rules
        self.tz = ZoneInfo(tz)
        self.clock = clock
        self.facts: dict[str, f.Fact] = {}
        self._in: dict[str, set[str]] = {}  # call id -> windows holding it
        self._counted: dict[str, f.Counts] = {}  # call id -> its contribution as summed now
        self._order: dict[str, deque[tuple[float, str]]] = {w: deque() for w in WINDOWS}
        self.sums: dict[str, dict[str, f.Counts]] = {w: {} for w in WINDOWS}
        self.agents: dict[int, AgentTrack] = {}
        self.states = TimeInStates()
        self._day_base = (0.0, 0.0)  # busy and ready seconds of everybody up to midnight
        self._day = day_start(clock(), self.tz)
        self.last_event_at = 0.0
        self._ticks = 0
        self._dropped: OrderedDict[str, None] = OrderedDict()
        # the facts a board or a tick must look at, kept as they change (a pass over every fact of the
        # last hour, 72k at 20 calls/s, took tens of milliseconds of the event loop): the facts that
        # may still be waiting (a fact only ever stops waiting), and those out of every rolling window
        # that are not final yet
        self._maybe_waiting: dict[str, f.Fact] = {}
        self._out_of_windows: dict[str, None] = {}

    # ------------------------------------------------------------------ calls
    def fact(self, call_id: str, start: float, queue: str | None) -> f.Fact:
        """The call's fact, created (and placed in its windows) on first sight."""
        fact = self.facts.get(call_id)
        if fact is None:
            fact = self.facts[call_id] = f.Fact(call_id, start, queue)
            self._in[call_id] = set()
            self._counted[call_id] = f.zero()
            now = self.clock()
            for w, length in WINDOWS.items():
                cutoff = self._day if length is None else now - length
                if start >= cutoff:
                    self._order[w].append((start, call_id))
                    self._in[call_id].add(w)
            if self._in[call_id] <= {"today"}:
                self._out_of_windows[call_id] = None
            if queue is not None:
                self._maybe_waiting[call_id] = fact
        elif queue and fact.queue is None:
            self._maybe_waiting[call_id] = fact
            old = self._counted[call_id]
            self._apply(fact, [-x for x in old], keys=(ALL,))  # moves from "all only" to its queue too
            self._counted[call_id] = f.zero()
            fact.queue = queue
        return fact

    def touch(self, fact: f.Fact) -> None:
        """Re-count a fact after its fields changed."""
        new = f.contribution(fact, self.rules)
        old = self._counted[fact.call_id]
        delta = [a - b for a, b in zip(new, old, strict=True)]
        if any(delta):
            self._apply(fact, delta)
            self._counted[fact.call_id] = new

    def _keys(self, fact: f.Fact) -> tuple[str, ...]:
        return (ALL, fact.queue) if fact.queue else (ALL,)

    def _apply(self, fact: f.Fact, delta: f.Counts, keys: tuple[str, ...] | None = None) -> None:
        for w in self._in.get(fact.call_id, ()):
            for key in keys or self._keys(fact):
                acc = self.sums[w].setdefault(key, f.zero())
                for i, d in enumerate(delta):
                    acc[i] += d

    # ------------------------------------------------------------------ operators
    def agent_state(self, uid: int, state: str, at: float) -> AgentTrack | None:
        """The operator entered ``state``; returns the previous track (with its state) or None."""
        track = self.agents.get(uid)
        if track is None:
            self.agents[uid] = AgentTrack(state, at)
            self.states.change(None, state, at)
            return None
        if track.state == state:
            return None
        prev = AgentTrack(track.state, track.since, last_call=track.last_call)
        self.states.change(track.state, state, at)
        track.state, track.since = state, at
        return prev

    # ------------------------------------------------------------------ time
    def tick(self) -> bool:
        """Expire calls that left a window, roll the day over; True when any figure changed."""
        now = self.clock()
        changed = False
        day = day_start(now, self.tz)
        if day != self._day:
            self._roll_day(day)
            changed = True
        for w, length in WINDOWS.items():
            cutoff = self._day if length is None else now - length
            order = self._order[w]
            while order and order[0][0] < cutoff:
                _, call_id = order.popleft()
                fact = self.facts.get(call_id)
                if fact is None or w not in self._in.get(call_id, ()):
                    continue
                self._apply_one(w, fact, [-x for x in self._counted[call_id]])
                self._in[call_id].discard(w)
                if self._in[call_id] <= {"today"}:
                    self._out_of_windows[call_id] = None
                changed = True
        self._ticks += 1
        if self._ticks % 10 == 0:  # facts out of every rolling window that can no longer change
            for call_id in list(self._out_of_windows):
                fact = self.facts.get(call_id)
                if fact is None:
                    del self._out_of_windows[call_id]
                elif _final(fact):
                    self._drop(call_id)
        self.states.forget_before(now - TimeInStates.KEEP_S)
        return changed

    def _apply_one(self, w: str, fact: f.Fact, delta: f.Counts) -> None:
        for key in self._keys(fact):
            acc = self.sums[w].setdefault(key, f.zero())
            for i, d in enumerate(delta):
                acc[i] += d

    def _roll_day(self, day: float) -> None:
        self.sums["today"] = {}
        self._order["today"].clear()
        for ws in self._in.values():
            ws.discard("today")
        self._day = day
        self._day_base = self.states.value(day)

    def known_finished(self, call_id: str) -> bool:
        """A call already counted in full and dropped: late events for it change nothing."""
        return call_id in self._dropped

    def _drop(self, call_id: str) -> None:
        self._dropped[call_id] = None
        while len(self._dropped) > 200_000:
            self._dropped.popitem(last=False)
        self.facts.pop(call_id, None)
        self._in.pop(call_id, None)
        self._counted.pop(call_id, None)
        self._maybe_waiting.pop(call_id, None)
        self._out_of_windows.pop(call_id, None)

    # ------------------------------------------------------------------ reading
    def waiting(self) -> list[f.Fact]:
        for call_id in [c for c, x in self._maybe_waiting.items() if not x.waiting]:
            del self._maybe_waiting[call_id]
        return [x for x in self._maybe_waiting.values() if x.queue is not None]

    def _occupancy(self, now: float) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for w, length in WINDOWS.items():
            if length is None:
                (b0, r0), (b1, r1) = self._day_base, self.states.value(now)
                out[w] = f.occupancy(b1 - b0, r1 - r0)
            else:
                out[w] = f.occupancy(*self.states.between(now - length, now))
        return out

    def snapshot(self) -> dict[str, Any]:
        """Every figure of every window and queue, the queue now, the operators by state."""
        now = self.clock()
        waiting = self.waiting()
        queues = sorted({k for sums in self.sums.values() for k in sums} | {x.queue or "" for x in waiting})
        queues = [q for q in queues if q and q != ALL]
        over: dict[tuple[str, str], int] = {}
        queue_now: dict[str, dict[str, Any]] = {
            q: {"waiting": 0, "oldest_since": None} for q in [ALL, *queues]
        }
        for x in waiting:
            for key in (ALL, x.queue or ""):
                entry = queue_now[key]
                entry["waiting"] += 1
                entry["oldest_since"] = min(entry["oldest_since"] or x.start, x.start)
            if f.whole_seconds(x.start, now) > self.rules.threshold(x.queue):
                for w in self._in.get(x.call_id, ()):
                    for key in (ALL, x.queue or ""):
                        over[(w, key)] = over.get((w, key), 0) + 1
        figures = {
            w: {
                q: f.figures(self.sums[w].get(q, f.zero()), self.rules, over.get((w, q), 0))
                for q in [ALL, *queues]
            }
            for w in WINDOWS
        }
        states = {s: 0 for s in AGENT_STATES}
        for track in self.agents.values():
            states[track.state] = states.get(track.state, 0) + 1
        return {
            "at": now,
            "as_of": self.last_event_at,
            "queues": queues,
            "figures": figures,
            "queue_now": queue_now,
            "agent_states": states,
            "occupancy_pct": self._occupancy(now),
        }
