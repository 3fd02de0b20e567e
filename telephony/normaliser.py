"""Raw AMI events in, the system's call events out: a pure, idempotent state machine.

Rules (see ``../shared/ami-traces/README.md`` for the event orders they come from):

* ``call_id`` is the caller channel's ``Linkedid`` (``Uniqueid`` when absent). The caller channel of a
  queue call is the ``Channel`` of ``QueueCallerJoin``; of a direct call, the ``Channel`` of the
  ``DialBegin`` that rings an operator.
* ``AgentCalled`` or a ``DialBegin`` to an operator endpoint → ``CallOffered``; ``AgentRingNoAnswer`` /
  ``DialEnd`` NOANSWER, BUSY… → ``CallOfferWithdrawn(no_answer)``.
* ``DialEnd`` ANSWER / ``AgentConnect`` / ``BridgeEnter`` of a ringing operator channel → ``CallAnswered``
  and ``CallOfferWithdrawn(answered_elsewhere)`` for every other operator still ringing (ring-all).
* ``QueueCallerAbandon`` or the caller's ``Hangup`` before an answer → ``CallAbandoned`` and
  ``CallOfferWithdrawn(caller_left)``; ``AgentComplete`` or a ``Hangup`` after the answer → ``CallEnded``.
* At most one event of each kind per (call, operator), however often Asterisk repeats itself; only
  per-channel order is relied on. Originate halves (``DialBegin`` without ``Channel``), ``Local/``
  helper legs and calls placed by an operator never pop.
* Finished calls are forgotten (a bounded set of recent ids swallows late events).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from telephony.channels import AgentBook, extension_of
from telephony.events import (
    AgentStatus,
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallEvent,
    CallOffered,
    CallOfferWithdrawn,
    CallQueued,
)

log = logging.getLogger(__name__)

Msg = dict[str, str]
NO_ANSWER_STATUSES = frozenset({"NOANSWER", "BUSY", "CHANUNAVAIL", "CONGESTION", "DONTCALL", "TORTURE"})


class MalformedEvent(ValueError):
    """An AMI event lacks a header the normaliser needs."""


@dataclass
class Ring:
    """One operator's phone ringing for a call."""

    agent: str
    extension: str | None
    channel: str  # the operator-side channel (DestChannel)
    started: float
    state: str = "ringing"  # ringing | cancelled (reason not yet known) | done


@dataclass
class Call:
    call_id: str
    caller: str
    caller_channel: str
    started: float
    queue: str | None = None
    rings: dict[str, Ring] = field(default_factory=dict)  # by agent interface
    answered: Ring | None = None
    answered_at: float | None = None
    caller_gone: bool = False
    emitted: set[tuple[str, str]] = field(default_factory=set)  # (event kind, agent)


def _caller_number(msg: Msg) -> str:
    num = (msg.get("CallerIDNum") or "").strip()
    return "" if num in ("<unknown>", "unknown") else num


def _need(msg: Msg, *keys: str) -> None:
    missing = [k for k in keys if not msg.get(k)]
    if missing:
        raise MalformedEvent(f"{msg.get('Event', '?')} without {', '.join(missing)}")


def _partner(channel: str) -> str:
    """The other half of a ``Local/…;1`` / ``;2`` pair ("" for other channels)."""
    if channel.startswith("Local/") and channel[-2:] in (";1", ";2"):
        return channel[:-1] + ("2" if channel[-1] == "1" else "1")
    return ""


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


class Normaliser:
    """Feed raw AMI events (``dict[str, str]``) one at a time; get call events back."""

    def __init__(
        self,
        agents: AgentBook | None = None,
        *,
        clock: Callable[[], float] = time.time,
        max_calls: int = 10_000,
        remember_finished: int = 20_000,
    ) -> None:
        self.agents = agents or AgentBook()
        self.calls: dict[str, Call] = {}
        self._clock = clock
        self._max_calls = max_calls
        self._remember = remember_finished
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._agent_state: dict[str, tuple[bool, int]] = {}
        self._handlers: dict[str, Callable[[Msg, float], list[CallEvent]]] = {
            "QueueCallerJoin": self._on_join,
            "AgentCalled": self._on_agent_called,
            "DialBegin": self._on_dial_begin,
            "AgentRingNoAnswer": self._on_ring_no_answer,
            "DialEnd": self._on_dial_end,
            "AgentConnect": self._on_agent_connect,
            "BridgeEnter": self._on_bridge_enter,
            "QueueCallerAbandon": self._on_abandon,
            "AgentComplete": self._on_agent_complete,
            "Hangup": self._on_hangup,
            "QueueMemberStatus": self._on_member,
            "QueueMemberPause": self._on_member,
            "QueueMemberAdded": self._on_member,
        }

    # ---------------------------------------------------------------- entry point
    def feed(self, msg: Msg) -> list[CallEvent]:
        """One AMI event in; zero or more call events out. Never raises on bad input."""
        name = msg.get("Event")
        handler = self._handlers.get(name or "")
        if handler is None:
            return []
        at = _float(msg.get("Timestamp")) or self._clock()
        try:
            return handler(msg, at)
        except MalformedEvent as exc:
            log.warning("malformed AMI event ignored: %s", exc)
            return []

    def live_calls(self) -> list[Call]:
        return list(self.calls.values())

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _call_id(msg: Msg, prefix: str = "") -> str:
        return msg.get(f"{prefix}Linkedid") or msg.get(f"{prefix}Uniqueid") or ""

    def _is_done(self, call_id: str) -> bool:
        return call_id in self._finished

    def _forget(self, call: Call) -> None:
        self.calls.pop(call.call_id, None)
        self._finished[call.call_id] = None
        while len(self._finished) > self._remember:
            self._finished.popitem(last=False)

    def _open(self, call_id: str, caller: str, channel: str, at: float, queue: str | None) -> Call | None:
        """Find or create the call; None for finished or internal calls."""
        if not call_id or self._is_done(call_id):
            return None
        call = self.calls.get(call_id)
        if call is None:
            if self.agents.is_agent(channel) or self.agents.is_agent_extension(caller):
                return None  # placed by an operator: internal, never pops
            if len(self.calls) >= self._max_calls:
                oldest = min(self.calls.values(), key=lambda c: c.started)
                log.warning("too many live calls; forgetting the oldest (%s)", oldest.call_id)
                self._forget(oldest)
            call = Call(call_id, caller, channel, at, queue)
            self.calls[call_id] = call
        if queue and not call.queue:
            call.queue = queue
        if caller and not call.caller:
            call.caller = caller
        return call

    @staticmethod
    def _once(call: Call, kind: str, agent: str, event: CallEvent, out: list[CallEvent]) -> None:
        key = (kind, agent)
        if key not in call.emitted:
            call.emitted.add(key)
            out.append(event)

    def _offer(self, call: Call, agent: str, channel: str, at: float, out: list[CallEvent]) -> None:
        if call.answered is not None or call.caller_gone:
            return
        # a new ring means any earlier ring whose reason was pending has moved on without an answer
        for other in call.rings.values():
            if other.state == "cancelled" and other.agent != agent:
                self._withdraw(call, other, "no_answer", at, out)
        ring = call.rings.get(agent)
        if ring is None:
            ring = call.rings[agent] = Ring(agent, extension_of(agent), channel, at)
        elif ring.state != "done":
            ring.channel = channel or ring.channel
        ext = ring.extension
        ev = CallOffered(call.call_id, at, caller=call.caller, agent=agent, extension=ext, queue=call.queue)
        self._once(call, "offered", agent, ev, out)

    def _withdraw(self, call: Call, ring: Ring, reason: str, at: float, out: list[CallEvent]) -> None:
        if ring.state == "done":
            return
        ring.state = "done"
        ev = CallOfferWithdrawn(call.call_id, at, agent=ring.agent, reason=reason, extension=ring.extension)
        self._once(call, "withdrawn", ring.agent, ev, out)

    def _answer(self, call: Call, ring: Ring, at: float, out: list[CallEvent]) -> None:
        if call.answered is not None:
            return
        call.answered, call.answered_at = ring, at
        ring.state = "done"
        ev = CallAnswered(
            call.call_id,
            at,
            caller=call.caller,
            agent=ring.agent,
            extension=ring.extension,
            queue=call.queue,
            hold_s=round(at - call.started, 3),
            ring_s=round(at - ring.started, 3),
        )
        self._once(call, "answered", ring.agent, ev, out)
        for other in call.rings.values():
            if other is not ring:
                self._withdraw(call, other, "answered_elsewhere", at, out)

    def _end(
        self, call: Call, at: float, out: list[CallEvent], hangup_by: str | None, talk: float | None
    ) -> None:
        ring = call.answered
        assert ring is not None
        if talk is None and call.answered_at is not None:
            talk = round(at - call.answered_at, 3)
        ev = CallEnded(
            call.call_id, at, agent=ring.agent, extension=ring.extension, talk_s=talk, hangup_by=hangup_by
        )
        self._once(call, "ended", ring.agent, ev, out)
        self._forget(call)

    def _abandon(self, call: Call, at: float, out: list[CallEvent], wait: float | None) -> None:
        call.caller_gone = True
        for ring in call.rings.values():
            self._withdraw(call, ring, "caller_left", at, out)
        if wait is None:
            wait = round(at - call.started, 3)
        ev = CallAbandoned(call.call_id, at, caller=call.caller, queue=call.queue, wait_s=wait)
        self._once(call, "abandoned", "", ev, out)
        self._forget(call)

    def _ring_by_channel(self, call: Call, channel: str) -> Ring | None:
        for ring in call.rings.values():
            if ring.channel == channel:
                return ring
        return None

    def _call_of_caller_channel(self, msg: Msg) -> Call | None:
        call = self.calls.get(self._call_id(msg))
        if call is None or call.caller_channel != msg.get("Channel"):
            return None
        return call

    # ---------------------------------------------------------------- queue events
    def _on_join(self, msg: Msg, at: float) -> list[CallEvent]:
        _need(msg, "Channel", "Queue")
        call_id = self._call_id(msg)
        if not call_id:
            raise MalformedEvent("QueueCallerJoin without Linkedid/Uniqueid")
        call = self._open(call_id, _caller_number(msg), msg["Channel"], at, msg["Queue"])
        out: list[CallEvent] = []
        if call is not None:
            position = int(msg.get("Position") or 0) if (msg.get("Position") or "").isdigit() else 0
            ev = CallQueued(call_id, at, caller=call.caller, queue=msg["Queue"], position=position)
            self._once(call, "queued", "", ev, out)
        return out

    def _on_agent_called(self, msg: Msg, at: float) -> list[CallEvent]:
        _need(msg, "Channel", "Interface")
        self.agents.learn(msg["Interface"])
        call = self._open(self._call_id(msg), _caller_number(msg), msg["Channel"], at, msg.get("Queue"))
        out: list[CallEvent] = []
        if call is not None and call.caller_channel == msg["Channel"]:
            self._offer(call, msg["Interface"], msg.get("DestChannel", ""), at, out)
        return out

    def _on_ring_no_answer(self, msg: Msg, at: float) -> list[CallEvent]:
        _need(msg, "Interface")
        call = self.calls.get(self._call_id(msg))
        out: list[CallEvent] = []
        if call is not None and (ring := call.rings.get(msg["Interface"])) is not None:
            self._withdraw(call, ring, "no_answer", at, out)
        return out

    def _on_agent_connect(self, msg: Msg, at: float) -> list[CallEvent]:
        _need(msg, "Interface")
        call = self.calls.get(self._call_id(msg))
        out: list[CallEvent] = []
        if call is None:
            return out
        ring = call.rings.get(msg["Interface"])
        if ring is None:  # connect seen without its AgentCalled (e.g. right after a reconnect)
            self._offer(call, msg["Interface"], msg.get("DestChannel", ""), at, out)
            ring = call.rings.get(msg["Interface"])
        if ring is not None:
            self._answer(call, ring, at, out)
        return out

    def _on_abandon(self, msg: Msg, at: float) -> list[CallEvent]:
        call = self.calls.get(self._call_id(msg))
        out: list[CallEvent] = []
        if call is not None and call.answered is None:
            self._abandon(call, at, out, _float(msg.get("HoldTime")))
        return out

    def _on_agent_complete(self, msg: Msg, at: float) -> list[CallEvent]:
        call = self.calls.get(self._call_id(msg))
        out: list[CallEvent] = []
        if call is not None and call.answered is not None:
            reason = msg.get("Reason") or None
            self._end(
                call, at, out, reason if reason in ("caller", "agent") else None, _float(msg.get("TalkTime"))
            )
        return out

    # ---------------------------------------------------------------- dial / bridge / hangup
    def _on_dial_begin(self, msg: Msg, at: float) -> list[CallEvent]:
        _need(msg, "DestChannel")
        source, dest = msg.get("Channel", ""), msg["DestChannel"]
        out: list[CallEvent] = []
        if not source or not self.agents.is_agent(dest):
            return out  # an originate half (no source) or a dial to something that is not an operator
        dial_string = msg.get("DialString", "")
        iface = self.agents.interface_for(dest, dial_string if "@" in dial_string else "")
        call_id = self._call_id(msg)
        if not call_id:
            raise MalformedEvent("DialBegin without Linkedid/Uniqueid")
        existing = self.calls.get(call_id)
        if existing is not None and existing.caller_channel != source:
            return out  # a helper leg of a call we already follow (e.g. Local ;2 dialling the phone)
        call = self._open(call_id, _caller_number(msg), source, at, None)
        if call is not None:
            self._offer(call, iface, dest, at, out)
        return out

    def _on_dial_end(self, msg: Msg, at: float) -> list[CallEvent]:
        source, dest = msg.get("Channel", ""), msg.get("DestChannel", "")
        call = self.calls.get(self._call_id(msg))
        out: list[CallEvent] = []
        if call is None or not source or source != call.caller_channel:
            return out
        ring = self._ring_by_channel(call, dest)
        if ring is None:
            return out
        status = (msg.get("DialStatus") or "").upper()
        if status == "ANSWER":
            self._answer(call, ring, at, out)
        elif status in NO_ANSWER_STATUSES:
            self._withdraw(call, ring, "no_answer", at, out)
        elif status == "CANCEL" and ring.state == "ringing":
            if call.answered is not None:
                self._withdraw(call, ring, "answered_elsewhere", at, out)
            elif call.caller_gone:
                self._withdraw(call, ring, "caller_left", at, out)
            else:
                ring.state = "cancelled"  # why is not known yet: the next decisive event tells
        return out

    def _on_bridge_enter(self, msg: Msg, at: float) -> list[CallEvent]:
        call = self.calls.get(self._call_id(msg))
        out: list[CallEvent] = []
        if call is not None and (ring := self._ring_by_channel(call, msg.get("Channel", ""))) is not None:
            if ring.state != "done" or call.answered is None:
                self._answer(call, ring, at, out)
        return out

    def _on_hangup(self, msg: Msg, at: float) -> list[CallEvent]:
        _need(msg, "Channel")
        channel = msg["Channel"]
        call = self.calls.get(self._call_id(msg))
        out: list[CallEvent] = []
        if call is None:
            return out
        if call.answered is not None and _partner(channel) in (call.caller_channel, call.answered.channel):
            # the other half of a Local pair: the customer's (or the operator's) own phone hung up
            who = "caller" if _partner(channel) == call.caller_channel else "agent"
            self._end(call, at, out, who, None)
            return out
        if channel == call.caller_channel:
            if call.answered is not None:
                self._end(call, at, out, "caller", None)
            else:
                self._abandon(call, at, out, None)
            return out
        ring = self._ring_by_channel(call, channel)
        if ring is None:
            return out
        if call.answered is ring:
            self._end(call, at, out, "agent", None)
        elif ring.state == "ringing" and call.answered is not None:
            self._withdraw(call, ring, "answered_elsewhere", at, out)
        elif ring.state == "ringing":
            ring.state = "cancelled"
        return out

    # ---------------------------------------------------------------- members
    def _on_member(self, msg: Msg, at: float) -> list[CallEvent]:
        _need(msg, "Interface")
        iface = msg["Interface"]
        self.agents.learn(iface)
        paused = msg.get("Paused") == "1"
        state = int(msg["Status"]) if (msg.get("Status") or "").isdigit() else 0
        if self._agent_state.get(iface) == (paused, state):
            return []
        self._agent_state[iface] = (paused, state)
        extra = {k: msg[k] for k in ("Queue", "MemberName", "PausedReason") if msg.get(k)}
        return [AgentStatus("", at, agent=iface, paused=paused, device_state=state, extra=extra)]

    # ---------------------------------------------------------------- resync
    def resync(self, channels: Iterable[Msg], queue_status: Iterable[Msg]) -> list[CallEvent]:
        """Bring the state in line with ``CoreShowChannels`` + ``QueueStatus`` after a (re)connect.

        Calls not known yet are announced (queued / offered / answered); calls that ended while the
        link was down are closed (``CallEnded`` or ``CallAbandoned``). Already-announced facts are not
        repeated.
        """
        from telephony.resync import apply_snapshot

        return apply_snapshot(self, list(channels), list(queue_status), self._clock())

    # used by telephony.resync
    def open_call(self, call_id: str, caller: str, channel: str, at: float, queue: str | None) -> Call | None:
        return self._open(call_id, caller, channel, at, queue)

    def offer(self, call: Call, agent: str, channel: str, at: float, out: list[CallEvent]) -> None:
        self._offer(call, agent, channel, at, out)

    def answer(self, call: Call, agent: str, at: float, out: list[CallEvent]) -> None:
        ring = call.rings.get(agent)
        if ring is not None:
            self._answer(call, ring, at, out)

    def withdraw(self, call: Call, ring: Ring, reason: str, at: float, out: list[CallEvent]) -> None:
        self._withdraw(call, ring, reason, at, out)

    def queued(self, call: Call, position: int, at: float, out: list[CallEvent]) -> None:
        ev = CallQueued(call.call_id, at, caller=call.caller, queue=call.queue or "", position=position)
        self._once(call, "queued", "", ev, out)

    def finish(self, call: Call, at: float, out: list[CallEvent]) -> None:
        """The call is gone: end or abandon it."""
        if call.answered is not None:
            self._end(call, at, out, None, None)
        else:
            self._abandon(call, at, out, None)

    def member_status(self, msg: Msg, at: float) -> list[CallEvent]:
        return self._on_member(msg, at)


def snapshot_from_status(
    channels: Iterable[Msg], queue_status: Iterable[Msg], **kwargs: object
) -> list[CallEvent]:
    """The call events describing the calls in progress, from ``CoreShowChannels`` + ``QueueStatus``."""
    return Normaliser(**kwargs).resync(channels, queue_status)  # type: ignore[arg-type]
