"""Call events and operator states in; call facts to the DB, live figures to the supervisors' board out.

Subscribes to:
* the call events telephony hands to the call service (``CallService.observers``), on the node that
  consumes AMI — the only node that sees them;
* ``floor.changed`` on the bus (any node's operators changing state), for operator states, after-call
  work and occupancy.

The node that consumes AMI ("active") keeps the counters and publishes the board (``kpis.board``) to every
supervisor through the bus, at most every ``publish_every_s``; every node caches the last board so a
page opened on any node shows the same figures. After a restart or a failover the counters of today are
rebuilt from the call facts in the DB.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm import Session

from telephony.events import (
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallEvent,
    CallOffered,
    CallQueued,
    QueueCallTimes,
)
from workstation.db import Database
from workstation.kpis import formulas as f
from workstation.kpis import notifier, reports, rollup
from workstation.kpis.live import LiveFigures, day_start
from workstation.kpis.models import AgentStateRow

log = logging.getLogger(__name__)


def register_writer_operations(writer: Any) -> None:
    """The call writer's operations of this feature: the state log and the hourly roll-up."""
    writer.batch_appliers["agent_state"] = apply_agent_states
    rollup.register(writer)


def apply_agent_states(s: Session, ops: list[dict[str, Any]]) -> None:
    """Writer operation ``agent_state`` (a batch of them): each operator's open state row is closed when
    their next state starts, and the new one opened. The same rows as one UPDATE and one INSERT per state
    change, in two statements per batch."""
    by_user: dict[int, list[tuple[datetime, str]]] = {}
    for fields in ops:
        by_user.setdefault(fields["user_id"], []).append(
            (datetime.fromtimestamp(fields["at"], UTC), fields["state"])
        )
    table = cast(Table, AgentStateRow.__table__)
    s.execute(
        update(table)
        .where(table.c.user_id == bindparam("uid"), table.c.ended_at.is_(None))
        .values(ended_at=bindparam("at")),
        [{"uid": uid, "at": states[0][0]} for uid, states in by_user.items()],
    )
    rows = [
        {
            "user_id": uid,
            "state": state,
            "started_at": at,
            "ended_at": states[i + 1][0] if i + 1 < len(states) else None,
        }
        for uid, states in by_user.items()
        for i, (at, state) in enumerate(states)
    ]
    s.execute(insert(table), rows)


class KpiService:
    def __init__(
        self,
        db: Database,
        hub: Any,
        bus: Any,
        writer: Any,
        directory: Any,
        rules: f.Rules,
        *,
        tz: str = "UTC",
        alert_window: str = "30m",
        is_active: Callable[[], bool] = lambda: True,
        publish_every_s: float = 0.2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db, self.hub, self.writer, self.directory = db, hub, writer, directory
        self.rules = rules
        self.tz = tz
        self.live = LiveFigures(rules, tz, clock)
        self.alert_window = alert_window
        self.is_active = is_active
        self.publish_every_s = publish_every_s
        self.clock = clock
        self.last_board: dict[str, Any] | None = None
        self.alerts: dict[str, dict[str, Any]] = {}
        self._dirty = asyncio.Event()
        bus.subscribe("role.supervisor", self._on_supervisor_message)

    # ------------------------------------------------------------------ call events
    def on_call_event(self, ev: CallEvent) -> None:
        """Observer of the call service: every call event, before its de-duplication (idempotent here)."""
        try:
            if self._apply(ev):
                self.live.last_event_at = max(self.live.last_event_at, ev.at)
                self._dirty.set()
        except Exception:
            log.exception("kpis: %s for call %s failed", type(ev).__name__, ev.call_id)

    def _apply(self, ev: CallEvent) -> bool:
        live = self.live
        if not ev.call_id or live.known_finished(ev.call_id):
            return False
        fact = live.facts.get(ev.call_id)
        if isinstance(ev, CallQueued):
            if fact is not None and fact.queue is not None:
                return False
            fact = live.fact(ev.call_id, ev.at, ev.queue)
            self._write(fact, started_at=fact.start, queue=ev.queue)
        elif isinstance(ev, CallOffered):
            if self.directory.is_agent_number(ev.caller):
                return False  # internal call between operators
            if fact is None:  # a direct call: it reaches the floor with its first ring
                fact = live.fact(ev.call_id, ev.at, None)
                self._write(fact, started_at=fact.start)
            if ev.agent in fact.offered_to:
                return False
            fact.offered_to.add(ev.agent)
            self._write(fact, offers=len(fact.offered_to))
            return False  # offers are not on the board
        elif fact is None:
            return False
        elif isinstance(ev, CallAnswered):
            if fact.answered_at is not None:
                return False
            fact.answered_at = ev.at
            fact.operator_id = self.directory.user_for(ev.agent, ev.extension)
            if not fact.asterisk_wait:
                fact.wait_s = f.whole_seconds(fact.start, ev.at)
            if fact.ring_s is None and ev.ring_s is not None:
                fact.ring_s = math.floor(ev.ring_s)
            self._write(
                fact, wait_s=fact.wait_s, ring_s=fact.ring_s, answered_at=ev.at, operator_id=fact.operator_id
            )
        elif isinstance(ev, QueueCallTimes):
            return self._asterisk_times(fact, ev)
        elif isinstance(ev, CallEnded):
            if fact.ended_at is not None or fact.answered_at is None:
                return False
            fact.ended_at = ev.at
            if not fact.asterisk_talk:
                fact.talk_s = f.whole_seconds(fact.answered_at, ev.at)
            if fact.operator_id is not None and (track := live.agents.get(fact.operator_id)) is not None:
                track.last_call = fact.call_id
            self._write(fact, talk_s=fact.talk_s, ended_at=ev.at)
        elif isinstance(ev, CallAbandoned):
            if fact.abandoned or fact.answered_at is not None:
                return False
            fact.abandoned, fact.ended_at = True, ev.at
            if not fact.asterisk_wait:
                fact.wait_s = f.whole_seconds(fact.start, ev.at)
            self._write(fact, wait_s=fact.wait_s, ended_at=ev.at, state="abandoned")
        else:
            return False
        self._count(fact)
        return True

    def _asterisk_times(self, fact: f.Fact, ev: QueueCallTimes) -> bool:
        """Asterisk's own HoldTime / RingTime / TalkTime replace ours: the figures must agree with its."""
        changes: dict[str, int] = {}
        if ev.hold_s is not None and (ev.source != "abandon" or fact.answered_at is None):
            fact.wait_s, fact.asterisk_wait = ev.hold_s, True
            changes["wait_s"] = ev.hold_s
        if ev.ring_s is not None:
            fact.ring_s = changes["ring_s"] = ev.ring_s
        if ev.talk_s is not None:
            fact.talk_s, fact.asterisk_talk = ev.talk_s, True
            changes["talk_s"] = ev.talk_s
        if not changes:
            return False
        self._write(fact, **changes)
        self._count(fact)
        return True

    def _count(self, fact: f.Fact) -> None:
        """Re-count a changed fact: on the board, and as a difference in the hourly roll-up (same batch)."""
        self.live.touch(fact)
        keys, new = rollup.keys_of(fact), rollup.vector(fact, self.rules)
        rows = rollup.deltas(fact.rolled, keys, new)
        fact.rolled = (tuple(keys), new)
        if rows:
            self.writer.put("kpi_delta", "", rows=rows)

    def _write(self, fact: f.Fact, **fields: Any) -> None:
        """Call facts through the call writer; the times and outcome the call service also writes are
        repeated (same values, same batch), so the facts stand on their own."""
        self.writer.put("upsert", fact.call_id, **fields)

    # ------------------------------------------------------------------ operator states
    async def _on_supervisor_message(self, _channel: str, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "kpis.board":
            self.last_board = msg
        elif kind == "floor.changed" and isinstance(msg.get("user_id"), int):
            self.agent_state(msg["user_id"], str(msg.get("presence")), float(msg.get("at") or self.clock()))
        elif kind == "records.finished" and msg.get("call_id") and msg.get("outcome") and self.is_active():
            self.writer.put(
                "kpi_fcr", "", call=msg["call_id"], operator_id=msg.get("operator_id"), outcome=msg["outcome"]
            )

    def agent_state(self, uid: int, state: str, at: float) -> None:
        """An operator's state changed (any node): time in state, after-call work, occupancy."""
        prev = self.live.agent_state(uid, state, at)
        if self.is_active():
            self.writer.put("agent_state", "", user_id=uid, state=state, at=at)
            if prev is not None and (rows := rollup.state_seconds(uid, prev.state, prev.since, at)):
                self.writer.put("kpi_delta", "", rows=rows)
        if (
            prev is not None
            and prev.last_call
            and (prev.state == "wrap_up" or (prev.state == "on_call" and state != "wrap_up"))
        ):
            fact = self.live.facts.get(prev.last_call)
            self.live.agents[uid].last_call = None
            if fact is not None and fact.ended_at is not None and fact.acw_s is None:
                fact.acw_s = f.whole_seconds(fact.ended_at, at) if prev.state == "wrap_up" else 0
                self._write(fact, acw_s=fact.acw_s)
                self._count(fact)
        self._dirty.set()

    # ------------------------------------------------------------------ the board
    def board(self) -> dict[str, Any]:
        """The board as this node knows it: its own counters when active, else the last one published."""
        if self.is_active() or self.last_board is None:
            return notifier.board(self.live.snapshot(), self.rules, self.alerts)
        return self.last_board

    def _check_alerts(self, snap: dict[str, Any]) -> list[dict[str, Any]]:
        """Thresholds crossed since the last look: the new alerts (each is raised once until it clears)."""
        now = snap["at"]
        found: dict[str, dict[str, Any]] = {}
        for queue, fig in snap["figures"][self.alert_window].items():
            sl = fig["service_level_pct"]
            if sl is not None and sl < self.rules.sl_target_pct:
                found[f"sl:{queue}"] = notifier.alert("sl_below_target", queue, value=sl)
        for queue, q in snap["queue_now"].items():
            oldest = q["oldest_since"]
            if oldest is not None and f.whole_seconds(oldest, now) > self.rules.wait_alert_s:
                found[f"wait:{queue}"] = notifier.alert(
                    "long_wait", queue, value=f.whole_seconds(oldest, now)
                )
        new = [a for key, a in found.items() if key not in self.alerts]
        self.alerts = {key: self.alerts.get(key, a) for key, a in found.items()}
        return new

    async def publish(self) -> None:
        snap = self.live.snapshot()
        new_alerts = self._check_alerts(snap)
        frame = notifier.board(snap, self.rules, self.alerts)
        self.last_board = frame
        await self.hub.send_to_role("supervisor", frame)
        for a in new_alerts:
            await self.hub.send_to_role("supervisor", notifier.alert_message(a))

    async def run(self, _container: Any = None) -> None:
        """Background job: publish when something changed (coalesced), tick every second."""
        await asyncio.to_thread(self.rebuild)
        last_tick = last_publish = 0.0
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the job's cancellation
            # when the event is set in the same moment, and the shutdown would wait for this loop forever
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._dirty.wait()
            now = time.monotonic()
            changed = self._dirty.is_set()
            if now - last_tick >= 1.0:
                last_tick = now
                changed = self.live.tick() or changed or bool(self.live.waiting()) or now - last_publish > 5
            if changed and self.is_active():
                self._dirty.clear()
                try:
                    await self.publish()
                except Exception:
                    log.exception("kpis: publishing the board failed")
                last_publish = time.monotonic()
                await asyncio.sleep(self.publish_every_s)
            else:
                self._dirty.clear()

    # ------------------------------------------------------------------ restart
    def rebuild(self) -> int:
        """Today's calls from the DB into the counters (after a restart or a failover); returns how many."""
        since = datetime.fromtimestamp(day_start(self.clock(), self.live.tz), UTC)
        stored = reports.facts(self.db, since, since + timedelta(days=1))
        for x in stored:
            if x.call_id in self.live.facts:
                continue
            fact = self.live.fact(x.call_id, x.start, x.queue)
            for name in (
                "operator_id",
                "answered_at",
                "ended_at",
                "wait_s",
                "ring_s",
                "talk_s",
                "acw_s",
                "abandoned",
            ):
                setattr(fact, name, getattr(x, name))
            self.live.touch(fact)
            fact.rolled = (tuple(rollup.keys_of(fact)), rollup.vector(fact, self.rules))  # already rolled up
        return len(stored)
