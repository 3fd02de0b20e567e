"""The simulated PBX's queue statistics, kept the way Asterisk's ``app_queue`` keeps them.

From ``apps/app_queue.c`` (Asterisk 22): ``qe->start`` is the ``time()`` of the join; at the answer
``hold = now - qe->start`` feeds ``recalc_holdtime`` (exponential average ``(3·old + new) >> 2``; the first
value is taken as is while ``completed + abandoned == 0``) and marks the call in service level when
``hold <= servicelevel``; at the end of the call ``update_queue`` counts it completed (and completed in
service level) and averages ``talk = now - member->starttime`` the same way (the first when completed == 1);
an abandon counts ``abandoned`` and, when ``hold <= servicelevel``, ``abandoned in service level``.
``ServicelevelPerf = 100·completedinsl / completed``; ``ServicelevelPerf2 = 100·(abandonedinsl +
completedinsl) / (abandoned + completed)``.

Generated calls get their ``HoldTime`` / ``RingTime`` / ``TalkTime`` headers from the simulator's own clock
(as Asterisk would, whatever the playing speed); replayed captures keep theirs and are counted from them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from telephony.protocol import Frame, as_dict


@dataclass
class QueueStats:
    servicelevel: int = 0
    holdtime: int = 0
    talktime: int = 0
    completed: int = 0
    abandoned: int = 0
    completedinsl: int = 0
    abandonedinsl: int = 0

    def perf(self) -> tuple[float, float]:
        sl = 100 * self.completedinsl / self.completed if self.completed else 0.0
        done = self.completed + self.abandoned
        sl2 = 100 * (self.abandonedinsl + self.completedinsl) / done if done else 0.0
        return sl, sl2


@dataclass
class QueueBook:
    """Per-queue statistics and the times of the calls in progress (by caller channel)."""

    service_levels: dict[str, int] = field(default_factory=dict)  # queue -> servicelevel (s); default 0
    stats: dict[str, QueueStats] = field(default_factory=dict)
    joined: dict[str, tuple[str, float]] = field(default_factory=dict)  # caller channel -> (queue, ts)
    rung: dict[tuple[str, str], float] = field(default_factory=dict)  # (caller, member channel) -> ts
    connected: dict[str, tuple[float, int, bool]] = field(default_factory=dict)  # caller -> (ts, hold, in sl)

    def queue(self, name: str) -> QueueStats:
        st = self.stats.get(name)
        if st is None:
            st = self.stats[name] = QueueStats(servicelevel=self.service_levels.get(name, 0))
        return st

    def set_service_level(self, queue: str, seconds: int) -> None:
        self.service_levels[queue] = seconds
        self.queue(queue).servicelevel = seconds

    def stamp(self, frame: Frame, own_clock: bool) -> Frame:
        """Count one queue event; with ``own_clock`` first set its time headers from the event's Timestamp."""
        msg = as_dict(frame)
        event, chan, queue = msg.get("Event", ""), msg.get("Channel", ""), msg.get("Queue", "")
        now = float(msg.get("Timestamp") or 0)
        if event == "QueueCallerJoin":
            self.joined[chan] = (queue, now)
        elif event == "AgentCalled":
            self.rung[(chan, msg.get("DestChannel", ""))] = now
        elif event == "AgentConnect":
            frame = self._connect(frame, msg, now, own_clock)
        elif event == "AgentComplete":
            frame = self._complete(frame, msg, now, own_clock)
        elif event == "QueueCallerAbandon":
            st = self.queue(queue)
            hold = _whole(self.joined.pop(chan, (queue, now))[1], now)
            if own_clock:
                frame = _set(frame, HoldTime=hold)
            hold = int(as_dict(frame).get("HoldTime") or hold)
            st.abandonedinsl += int(hold <= st.servicelevel)
            st.abandoned += 1
        return frame

    def _connect(self, frame: Frame, msg: dict[str, str], now: float, own_clock: bool) -> Frame:
        chan, queue = msg.get("Channel", ""), msg.get("Queue", "")
        st = self.queue(queue)
        if own_clock:
            start = self.joined.get(chan, (queue, now))[1]
            rung = self.rung.get((chan, msg.get("DestChannel", "")), now)
            frame = _set(frame, HoldTime=_whole(start, now), RingTime=math.floor(max(0.0, now - rung)))
        hold = int(as_dict(frame).get("HoldTime") or 0)
        if st.completed + st.abandoned == 0:
            st.holdtime = hold
        else:
            st.holdtime = ((st.holdtime << 2) - st.holdtime + hold) >> 2
        self.connected[chan] = (now, hold, hold <= st.servicelevel)
        self.joined.pop(chan, None)
        return frame

    def _complete(self, frame: Frame, msg: dict[str, str], now: float, own_clock: bool) -> Frame:
        chan, queue = msg.get("Channel", ""), msg.get("Queue", "")
        st = self.queue(queue)
        started, hold, insl = self.connected.pop(chan, (now, 0, False))
        if own_clock:
            frame = _set(frame, HoldTime=hold, TalkTime=_whole(started, now))
        talk = int(as_dict(frame).get("TalkTime") or 0)
        st.completed += 1
        st.completedinsl += int(insl)
        st.talktime = talk if st.completed == 1 else ((st.talktime << 2) - st.talktime + talk) >> 2
        return frame


def _whole(start: float, end: float) -> int:
    return max(0, math.floor(end) - math.floor(start))


def _set(frame: Frame, **values: int) -> Frame:
    return [(k, str(values[k]) if k in values else v) for k, v in frame]
