"""Live calls: turns telephony's call events into call state, screen pops and persisted history.

On ``CallArrived`` (the call's first channel, still in the IVR) the card is fetched into the billing
cache, and on ``CallQueued`` for the call, so it is ready before any phone rings. On ``CallOffered`` the
card pops on every tab of that operator (and only theirs). One pop per call per operator, however often
events repeat: events are deduplicated by (call, kind, agent). DB writes go through one background
writer so the pop path never waits for the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from asyncio import shield, wait_for
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from billing_adapter.models import CardLookup
from billing_adapter.ports import CardLookupService
from telephony.errors import TelephonyError
from telephony.events import (
    AgentStatus,
    CallAbandoned,
    CallAnswered,
    CallArrived,
    CallEnded,
    CallEvent,
    CallOffered,
    CallOfferWithdrawn,
    CallQueued,
    QueueCallTimes,
    TelephonyLink,
)
from telephony.ports import Telephony
from workstation.calls import notifier
from workstation.calls.directory import AgentDirectory
from workstation.calls.link_health import LinkHealth
from workstation.calls.live import NO_CALLER_ID, LiveCall
from workstation.calls.notifier import CallNotifier
from workstation.calls.presence import PAUSE_REASONS, presence_source
from workstation.calls.writer import CallWriter
from workstation.db import Database
from workstation.errors import Conflict, NotFound
from workstation.models import Call, User

if TYPE_CHECKING:
    from workstation.hub import Hub

log = logging.getLogger(__name__)

# telephony events live calls do not act on: the observers (contact-center figures) read them
OBSERVED_ONLY: tuple[type[CallEvent], ...] = (AgentStatus, QueueCallTimes)


class CallService:
    """Live call state of this node: screen pops, presence, after-call work."""

    def __init__(
        self,
        db: Database,
        billing: CardLookupService,
        hub: Hub,
        telephony: Telephony | None,
        journal: Path,
        link_health: LinkHealth,
    ):
        """``journal``: the outbox file call facts and audit rows go through on their way to ``db``;
        ``link_health``: the PBX link's health as this node shows it (shared over the bus)."""
        self.db = db
        self.billing = billing
        self.hub = hub
        self.notify = CallNotifier(hub)
        self.telephony = telephony
        self.directory = AgentDirectory(db)
        self.writer = CallWriter(db, journal=journal, on_state=self.notify.saving_state)
        self.calls: dict[str, LiveCall] = {}
        self.by_user: dict[int, str] = {}  # operator → call on their screen (ringing, connected, wrap-up)
        self.chosen: dict[int, str] = {}  # operator → presence they picked (ready / paused / offline)
        self._seen: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self.telephony_up = False
        self.link_health = link_health
        self.pops = 0
        self._tasks: set[asyncio.Task[None]] = set()
        # features that follow every call event (contact-center figures): called before de-duplication,
        # synchronously, so they must be idempotent and quick
        self.observers: list[Callable[[CallEvent], None]] = []
        # one handler per call event type (cosmicpython's HANDLERS), after de-duplication
        self.handlers: dict[type[CallEvent], Callable[[Any], Awaitable[None]]] = {
            CallArrived: self._arrived,
            CallQueued: self._queued,
            CallOffered: self._offered,
            CallOfferWithdrawn: self._withdrawn,
            CallAnswered: self._answered,
            CallEnded: self._ended,
            CallAbandoned: self._abandoned,
        }

    async def start(self) -> None:
        await asyncio.to_thread(self.directory.load)
        self.writer.start()
        if self.telephony is not None:  # pauses re-applied from stored presence on (re)connect
            self.telephony.set_presence_source(presence_source(self.db))
        await self.link_health.start()

    async def stop(self) -> None:
        await self.link_health.stop()
        await self.writer.stop()

    # -- events from telephony ----------------------------------------------------------------
    async def handle(self, event: CallEvent) -> None:
        if isinstance(event, TelephonyLink):
            self.telephony_up = event.up
            await self.link_health.publish()
            await self.notify.telephony_link(event.up)
            return
        for observe in self.observers:
            observe(event)
        handler = self.handlers.get(type(event))
        if handler is None:
            if not isinstance(event, OBSERVED_ONLY):
                log.warning("no handler for call event %s", type(event).__name__)
            return
        agent = getattr(event, "agent", None) or ""
        ring = getattr(event, "ring", 1)  # a second ring of the same operator pops again
        key = (event.call_id, type(event).__name__, agent if ring == 1 else f"{agent}#{ring}")
        if key in self._seen:
            return
        self._seen[key] = None
        if len(self._seen) > 100_000:
            self._seen.popitem(last=False)
        try:
            await handler(event)
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
            call.lookup_task = asyncio.create_task(self.billing.lookup_caller(call.caller))
            # the call's subscriber is stored however the call goes on (abandoned while every operator
            # was paused: nobody ever looks at the card, the call still belongs in the history)
            call.lookup_task.add_done_callback(lambda task: self._found(call, task))

    def _found(self, call: LiveCall, task: asyncio.Task[CardLookup]) -> None:
        if task.cancelled() or task.exception() is not None:
            return
        lookup = task.result()
        notifier.card_view(call, lookup)  # the screens' payload, built now rather than when the phone rings
        if lookup.card is not None and not call.subscriber_id:
            call.subscriber_id = lookup.card.subscriber_id
            self.writer.put("subscriber", call.call_id, subscriber_id=call.subscriber_id)

    async def _card(self, call: LiveCall) -> CardLookup | None:
        if call.lookup is None and call.lookup_task is None and not call.caller:
            call.lookup = NO_CALLER_ID
        if call.lookup is None and (task := call.lookup_task) is not None:
            try:  # a card already there (the cache warmed in the IVR) is taken at once, no loop round trip
                call.lookup = task.result() if task.done() else await wait_for(shield(task), 1.5)
            except Exception as exc:  # the billing front answers in time; this is the last guard
                log.warning("card lookup for call %s failed: %s", call.call_id, type(exc).__name__)
                return None
            self._found(call, task)
        return call.lookup

    async def _arrived(self, ev: CallArrived) -> None:
        """Warm the billing cache: no live call yet (most calls of an IVR never reach the floor)."""
        if ev.caller and not self.directory.is_agent_number(ev.caller):
            self._spawn(self._prefetch(ev.caller))

    async def _prefetch(self, caller: str) -> None:
        with contextlib.suppress(Exception):  # the lookup at the queue join tries again, and logs it
            await self.billing.lookup_caller(caller)

    async def _queued(self, ev: CallQueued) -> None:
        call = self._call(ev.call_id, ev.caller, ev.queue)
        call.queued_at = call.queued_at or ev.at
        # a known time never moves (history keeps the first): the writer sets times only once per call
        self.writer.put(
            "upsert", ev.call_id, caller=call.caller, queue=ev.queue, state="queued", queued_at=ev.at
        )
        self.writer.event(ev.call_id, "queued", None, {"queue": ev.queue, "position": ev.position})
        await asyncio.sleep(0)  # the lookup's first step before the ring (same moment): a cached card is in

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
        await self.notify.offered(uid, call, lookup)

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
        await self.notify.withdrawn(uid, call, reason)

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
            await self.notify.answered(uid, call, lookup)
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
            await self.notify.ended(uid, call, ev.hangup_by)
            await self.set_presence(uid, "wrap_up")
        if call.state == "ended":
            self._forget(call)
            if uid is not None:  # the record was already done during the call
                await self.notify.ended(uid, call, ev.hangup_by)
                await self.notify.cleared(uid, call.call_id)
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
        await self.notify.floor_changed(uid, presence)
        if presence in PAUSE_REASONS:
            self._spawn(self._pause(uid, *PAUSE_REASONS[presence]))

    async def _pause(self, uid: int, paused: bool, reason: str) -> None:
        if (tel := self.telephony) is None or (interface := self.directory.interface_of(uid)) is None:
            return
        try:
            await tel.pause(interface, paused, reason)
        except TelephonyError as exc:  # kept by telephony and retried; Asterisk's reason is in the log
            log.warning("queue pause of user %s (%s) not applied yet: %s", uid, paused, exc)
        except Exception as exc:  # the operator's screen state stands
            log.warning("queue pause of user %s (%s) failed: %s", uid, paused, type(exc).__name__)

    async def drain(self) -> None:
        """Wait until the side work started so far (queue pauses sent to the PBX) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

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
        await self.notify.cleared(user.id, call_id)
        # back to what the operator picked: a break chosen during the call stays a break
        await self.set_presence(user.id, "paused" if self.chosen.get(user.id) == "paused" else "ready")
        return saved

    def _finish_in_db(self, call_id: str, user_id: int) -> None:
        with self.db.session() as s:
            row = s.get(Call, call_id)
            if row is None:
                raise NotFound("no such call", error_id="call_not_found")
            if row.operator_id != user_id:
                raise Conflict("this call is not on your screen", error_id="not_your_call")

    async def snapshot_for(self, uid: int) -> dict[str, Any] | None:
        """What a freshly (re)connected tab of this operator must show: the live call and its card."""
        call_id = self.by_user.get(uid)
        call = self.calls.get(call_id) if call_id else None
        if call is None:
            return None
        return self.notify.state(call, await self._card(call))

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
