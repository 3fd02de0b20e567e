"""Live calls: turns telephony's call events into call state, screen pops and persisted history.

On ``CallQueued`` the card is prefetched, so it is ready before any phone rings. On ``CallOffered`` the
card pops on every tab of that operator (and only theirs). One pop per call per operator, however often
events repeat: events are deduplicated by (call, kind, agent). DB writes go through one background
writer so the pop path never waits for the database.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from billing_adapter.models import CardLookup
from telephony.errors import TelephonyError
from telephony.events import (
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallEvent,
    CallOffered,
    CallOfferWithdrawn,
    CallQueued,
    TelephonyLink,
)
from workstation.calls import notifier
from workstation.calls.directory import AgentDirectory
from workstation.calls.link_health import LinkHealth
from workstation.calls.presence import PAUSE_REASONS, presence_source
from workstation.calls.writer import CallWriter, journal_path
from workstation.errors import Conflict, NotFound
from workstation.models import Call, User

if TYPE_CHECKING:
    from workstation.bootstrap import Container
    from workstation.hub import Hub

log = logging.getLogger(__name__)

LIVE_STATES = ("queued", "ringing", "connected", "wrap_up")
# the card of a call whose caller ID Asterisk reports as <unknown> (or none): search, like "anonymous"
NO_CALLER_ID = CardLookup(state="bad_number", message="no caller ID")


@dataclass
class LiveCall:
    call_id: str
    caller: str
    queue: str | None = None
    state: str = "queued"
    queued_at: float | None = None
    offered_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    subscriber_id: str | None = None
    lookup: CardLookup | None = None
    lookup_task: asyncio.Task[CardLookup] | None = None
    ringing: set[int] = field(default_factory=set)  # users whose phone rings now
    operator_id: int | None = None
    record_done: bool = False  # the request record was finished while the call was still connected


class CallService:
    def __init__(self, container: Container):
        self.container = container
        self.billing = container.billing
        self.directory = AgentDirectory(container.db)
        self.writer = CallWriter(
            container.db, journal=journal_path(container.settings.data_dir), on_state=self._saving_state
        )
        self.calls: dict[str, LiveCall] = {}
        self.by_user: dict[int, str] = {}  # operator → call on their screen (ringing, connected, wrap-up)
        self.chosen: dict[int, str] = {}  # operator → presence they picked (ready / paused / offline)
        self._seen: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self.telephony_up = False
        self.link_health = LinkHealth(container.bus, container.telephony)
        self.pops = 0
        self._tasks: set[asyncio.Task[None]] = set()
        # features that follow every call event (contact-center figures): called before de-duplication,
        # synchronously, so they must be idempotent and quick
        self.observers: list[Callable[[CallEvent], None]] = []

    @property
    def hub(self) -> Hub:
        return self.container.services["hub"]  # type: ignore[no-any-return]

    async def start(self) -> None:
        await asyncio.to_thread(self.directory.load)
        self.writer.start()
        if self.container.telephony is not None:  # pauses re-applied from stored presence on (re)connect
            self.container.telephony.set_presence_source(presence_source(self.container.db))
        await self.link_health.start()

    async def stop(self) -> None:
        await self.link_health.stop()
        await self.writer.stop()

    # -- events from telephony ----------------------------------------------------------------
    async def handle(self, event: CallEvent) -> None:
        if isinstance(event, TelephonyLink):
            self.telephony_up = event.up
            await self.link_health.publish()
            await self.hub.send_to_role("supervisor", {"type": "telephony.link", "up": event.up})
            return
        for observe in self.observers:
            observe(event)
        agent = getattr(event, "agent", None) or ""
        ring = getattr(event, "ring", 1)  # a second ring of the same operator pops again
        key = (event.call_id, type(event).__name__, agent if ring == 1 else f"{agent}#{ring}")
        if key in self._seen:
            return
        self._seen[key] = None
        if len(self._seen) > 100_000:
            self._seen.popitem(last=False)
        try:
            if isinstance(event, CallQueued):
                await self._queued(event)
            elif isinstance(event, CallOffered):
                await self._offered(event)
            elif isinstance(event, CallOfferWithdrawn):
                await self._withdrawn(event)
            elif isinstance(event, CallAnswered):
                await self._answered(event)
            elif isinstance(event, CallEnded):
                await self._ended(event)
            elif isinstance(event, CallAbandoned):
                await self._abandoned(event)
        except Exception:
            log.exception("call event %s for call %s failed", type(event).__name__, event.call_id)

    def _call(self, call_id: str, caller: str = "", queue: str | None = None) -> LiveCall:
        call = self.calls.get(call_id)
        if call is None:
            call = LiveCall(call_id=call_id, caller=caller, queue=queue)
            self.calls[call_id] = call
            self._start_lookup(call)
        else:
            if caller and not call.caller:
                call.caller = caller
            if queue and not call.queue:
                call.queue = queue
        return call

    def _start_lookup(self, call: LiveCall) -> None:
        if call.lookup_task is None and call.caller:
            call.lookup_task = asyncio.create_task(self.billing.lookup_caller(call.caller))  # type: ignore[attr-defined]
            # the call's subscriber is stored however the call goes on (abandoned while every operator
            # was paused: nobody ever looks at the card, the call still belongs in the history)
            call.lookup_task.add_done_callback(lambda task: self._found(call, task))

    def _found(self, call: LiveCall, task: asyncio.Task[CardLookup]) -> None:
        if task.cancelled() or task.exception() is not None or call.subscriber_id:
            return
        card = task.result().card
        if card is not None:
            call.subscriber_id = card.subscriber_id
            self.writer.put("subscriber", call.call_id, subscriber_id=call.subscriber_id)

    async def _card(self, call: LiveCall) -> CardLookup | None:
        if call.lookup is None and call.lookup_task is None and not call.caller:
            call.lookup = NO_CALLER_ID
        if call.lookup is None and call.lookup_task is not None:
            try:
                call.lookup = await asyncio.wait_for(asyncio.shield(call.lookup_task), timeout=1.5)
            except Exception as exc:  # the billing front answers in time; this is the last guard
                log.warning("card lookup for call %s failed: %s", call.call_id, type(exc).__name__)
                return None
            self._found(call, call.lookup_task)
        return call.lookup

    async def _queued(self, ev: CallQueued) -> None:
        call = self._call(ev.call_id, ev.caller, ev.queue)
        call.queued_at = call.queued_at or ev.at
        # a known time never moves (history keeps the first): the writer sets times only once per call
        self.writer.put(
            "upsert", ev.call_id, caller=call.caller, queue=ev.queue, state="queued", queued_at=ev.at
        )
        self.writer.event(ev.call_id, "queued", None, {"queue": ev.queue, "position": ev.position})

    async def _offered(self, ev: CallOffered) -> None:
        uid = self.directory.user_for(ev.agent, ev.extension)
        call = self._call(ev.call_id, ev.caller, ev.queue)
        if uid is None and self.directory.stale():
            await asyncio.to_thread(self.directory.load)  # a new operator since the last load
            uid = self.directory.user_for(ev.agent, ev.extension)
        if uid is None:
            log.info("call %s rings agent %s who is no workstation user", ev.call_id, ev.agent)
            return
        if self.directory.is_agent_number(ev.caller):
            return  # internal call between operators: no pop
        call.state = "ringing" if call.state in ("queued", "ringing") else call.state
        call.offered_at = call.offered_at or ev.at
        call.ringing.add(uid)
        self._close_previous(uid, call.call_id)
        self.by_user[uid] = call.call_id
        lookup = await self._card(call)
        if uid not in call.ringing:  # withdrawn while billing answered
            return
        self.pops += 1
        # history and audit first: a push that fails (bus away) must not cost the call its facts
        self.writer.put(
            "upsert", ev.call_id, caller=call.caller, queue=call.queue, state=call.state, offered_at=ev.at
        )
        self.writer.event(ev.call_id, "offered", ev.agent, {"user_id": uid})
        if call.subscriber_id:
            self.writer.audit(uid, "card.pop", call.subscriber_id, {"call_id": ev.call_id})
        await self.hub.send_to_user(
            uid, notifier.message("call.offered", call, card=notifier.card_payload(lookup))
        )

    def _close_previous(self, uid: int, call_id: str) -> None:
        """An operator rung while still in after-call work (they set themselves Ready) is done with it: the
        previous call leaves the floor and reads ended in the history, instead of staying live forever."""
        prev = self.calls.get(self.by_user.get(uid, ""))
        if prev is None or prev.call_id == call_id or prev.state != "wrap_up" or prev.operator_id != uid:
            return
        prev.state = "ended"
        self._forget(prev)
        self.writer.put("upsert", prev.call_id, state="ended", wrapup_done_at=time.time())

    async def _withdraw(self, call: LiveCall, uid: int, reason: str) -> None:
        call.ringing.discard(uid)
        if self.by_user.get(uid) == call.call_id:
            del self.by_user[uid]
        await self.hub.send_to_user(uid, notifier.message("call.withdrawn", call, reason=reason))

    async def _withdrawn(self, ev: CallOfferWithdrawn) -> None:
        call = self.calls.get(ev.call_id)
        uid = self.directory.user_for(ev.agent, ev.extension)
        if call is None or uid is None or uid not in call.ringing:
            return
        self.writer.event(ev.call_id, "withdrawn", ev.agent, {"reason": ev.reason})
        await self._withdraw(call, uid, ev.reason)

    async def _answered(self, ev: CallAnswered) -> None:
        call = self._call(ev.call_id, ev.caller, ev.queue)
        uid = self.directory.user_for(ev.agent, ev.extension)
        call.state = "connected"
        call.answered_at = call.answered_at or ev.at
        call.operator_id = uid
        self.writer.put(
            "upsert", ev.call_id, caller=call.caller, state="connected", answered_at=ev.at, operator_id=uid
        )
        self.writer.event(ev.call_id, "answered", ev.agent, {"hold_s": ev.hold_s, "ring_s": ev.ring_s})
        for other in list(call.ringing - {uid} if uid else call.ringing):
            await self._withdraw(call, other, "answered_elsewhere")
        call.ringing.clear()
        if uid is not None:
            self.by_user[uid] = call.call_id
            lookup = await self._card(call)
            await self.hub.send_to_user(
                uid, notifier.message("call.answered", call, card=notifier.card_payload(lookup))
            )
            await self.set_presence(uid, "on_call")

    async def _ended(self, ev: CallEnded) -> None:
        call = self.calls.get(ev.call_id)
        if call is None:
            return
        call.ended_at = ev.at
        uid = call.operator_id
        call.state = "wrap_up" if uid is not None and not call.record_done else "ended"
        self.writer.put("upsert", ev.call_id, state=call.state, ended_at=ev.at)
        self.writer.event(ev.call_id, "ended", ev.agent, {"talk_s": ev.talk_s, "hangup_by": ev.hangup_by})
        if call.state == "wrap_up" and uid is not None:
            await self.hub.send_to_user(uid, notifier.message("call.ended", call, hangup_by=ev.hangup_by))
            await self.set_presence(uid, "wrap_up")
        if call.state == "ended":
            self._forget(call)
            if uid is not None:  # the record was already done during the call
                await self.hub.send_to_user(uid, notifier.message("call.ended", call, hangup_by=ev.hangup_by))
                await self.hub.send_to_user(
                    uid, {"type": "call.cleared", "v": 1, "call": {"id": call.call_id}}
                )
                await self.set_presence(uid, "paused" if self.chosen.get(uid) == "paused" else "ready")

    async def _abandoned(self, ev: CallAbandoned) -> None:
        call = self.calls.get(ev.call_id) or self._call(ev.call_id, ev.caller, ev.queue)
        call.state = "abandoned"
        call.ended_at = ev.at
        self.writer.put("upsert", ev.call_id, caller=call.caller, state="abandoned", ended_at=ev.at)
        self.writer.event(ev.call_id, "abandoned", None, {"wait_s": ev.wait_s})
        ringing = list(call.ringing)
        self._forget(call)
        for uid in ringing:
            await self._withdraw(call, uid, "caller_left")

    def _forget(self, call: LiveCall) -> None:
        self.calls.pop(call.call_id, None)
        for uid, cid in list(self.by_user.items()):
            if cid == call.call_id:
                del self.by_user[uid]

    async def set_presence(self, uid: int, presence: str) -> None:
        """Record the operator's state, tell supervisors, and pause / unpause their queue membership so
        Asterisk rings only operators who are ready (after-call work and breaks are paused)."""
        if presence in ("ready", "paused", "offline"):
            self.chosen[uid] = presence
        self.writer.put("presence", "", user_id=uid, presence=presence)
        await self.hub.send_to_role(
            "supervisor", {"type": "floor.changed", "user_id": uid, "presence": presence, "at": time.time()}
        )
        if presence in PAUSE_REASONS:
            self._spawn(self._pause(uid, *PAUSE_REASONS[presence]))

    async def _pause(self, uid: int, paused: bool, reason: str) -> None:
        tel = self.container.telephony
        interface = self.directory.interface_of(uid)
        if tel is None or interface is None or not hasattr(tel, "pause"):
            return
        try:
            await tel.pause(interface, paused, reason)
        except TelephonyError as exc:  # kept by telephony and retried; Asterisk's reason is in the log
            log.warning("queue pause of user %s (%s) not applied yet: %s", uid, paused, exc)
        except Exception as exc:  # the operator's screen state stands
            log.warning("queue pause of user %s (%s) failed: %s", uid, paused, type(exc).__name__)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- operator actions ---------------------------------------------------------------------
    async def finish_wrapup(self, call_id: str, user: User) -> bool:
        """The operator finished the request record: after-call work ends, they are ready again.

        True when the history is written; False when the workstation DB is away and the finish waits in
        the outbox ("saving delayed"): the operator goes on working either way."""
        call = self.calls.get(call_id)
        if call is not None:
            if call.operator_id != user.id:
                raise Conflict("this call is not on your screen", error_id="not_your_call")
            if call.state not in ("connected", "wrap_up"):
                raise Conflict(f"call is {call.state}, nothing to finish", error_id="bad_call_state")
            if call.state == "connected":
                # the record was finished while still talking: the call stays on screen; when it ends
                # there is no after-call work left, and the operator goes straight back to their status
                call.record_done = True
                self.writer.put("upsert", call_id, wrapup_done_at=time.time())
                return await self.writer.flush()
            call.state = "ended"
            self._forget(call)
        else:
            await asyncio.to_thread(self._finish_in_db, call_id, user.id)
        # a finished call is history: "ended" (a call still connected keeps its live state)
        done = call is None or call.state == "ended"
        self.writer.put("upsert", call_id, wrapup_done_at=time.time(), **({"state": "ended"} if done else {}))
        if self.by_user.get(user.id) == call_id:
            del self.by_user[user.id]
        # history first (the writer batches): the operator's next look at "previous calls" sees it done
        saved = await self.writer.flush()
        await self.hub.send_to_user(user.id, {"type": "call.cleared", "v": 1, "call": {"id": call_id}})
        # back to what the operator picked: a break chosen during the call stays a break
        await self.set_presence(user.id, "paused" if self.chosen.get(user.id) == "paused" else "ready")
        return saved

    def _finish_in_db(self, call_id: str, user_id: int) -> None:
        with self.container.db.session() as s:
            row = s.get(Call, call_id)
            if row is None:
                raise NotFound("no such call", error_id="call_not_found")
            if row.operator_id != user_id:
                raise Conflict("this call is not on your screen", error_id="not_your_call")

    async def _saving_state(self, delayed: bool) -> None:
        """Tell every screen that history and audit are being kept locally (the DB is away) or caught up."""
        message = {"type": "saving.state", "delayed": delayed, "status": "saving_delayed" if delayed else "ok"}
        for role in ("operator", "tech_support", "supervisor", "admin"):
            await self.hub.send_to_role(role, dict(message))

    async def snapshot_for(self, uid: int) -> dict[str, Any] | None:
        """What a freshly (re)connected tab of this operator must show: the live call and its card."""
        call_id = self.by_user.get(uid)
        call = self.calls.get(call_id) if call_id else None
        if call is None:
            return None
        lookup = await self._card(call)
        return notifier.message("call.state", call, card=notifier.card_payload(lookup))

    def floor(self) -> dict[str, Any]:
        waiting = [c for c in self.calls.values() if c.state in ("queued", "ringing")]
        now = time.time()
        health = self.link_health.current()  # on a node without the AMI consumer: the consumer's
        return {
            "telephony_up": self.telephony_up or health["state"] in ("ok", "degraded"),
            "telephony": health,
            "waiting": len(waiting),
            "longest_wait_s": max((now - (c.queued_at or now) for c in waiting), default=0),
            "on_call": {uid: cid for uid, cid in self.by_user.items()},
            "live_calls": [notifier.call_payload(c) for c in self.calls.values()],
        }


def utc(ts: float | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts else None


def recent_calls(container: Container, subscriber_id: str, limit: int = 20) -> list[dict[str, Any]]:
    with container.db.session() as s:
        rows = s.scalars(
            select(Call)
            .where(Call.subscriber_id == subscriber_id)
            .order_by(Call.created_at.desc())
            .limit(limit)
        ).all()
        return [
            {
                "id": r.id,
                "state": r.state,
                "queued_at": r.queued_at,
                "answered_at": r.answered_at,
                "ended_at": r.ended_at,
                "operator_id": r.operator_id,
            }
            for r in rows
        ]
