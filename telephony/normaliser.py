"""Raw AMI events in, the system's call events out: a pure, idempotent state machine.

Rules (see ``../shared/ami-traces/README.md`` for the event orders they come from):

* The first channel of a call (``Uniqueid`` = ``Linkedid``) with a caller number (``Newchannel`` or
  ``NewCallerid``) → ``CallArrived``, once per call: the card is fetched while the call is in the IVR.
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
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from telephony.call_book import Call, CallBook, MalformedEvent, Msg, Ring, clean_caller_id
from telephony.channels import AgentBook
from telephony.events import AgentStatus, CallArrived, CallEvent, QueueCallTimes
from telephony.resync import apply_snapshot

log = logging.getLogger(__name__)

NO_ANSWER_STATUSES = frozenset({"NOANSWER", "BUSY", "CHANUNAVAIL", "CONGESTION", "DONTCALL", "TORTURE"})
__all__ = ["Call", "MalformedEvent", "Msg", "Normaliser", "Ring", "snapshot_from_status"]


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


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _queue_times(msg: Msg, at: float, source: str, call_id: str) -> list[CallEvent]:
    """Asterisk's own HoldTime / RingTime / TalkTime of this queue event (none when it gives none)."""
    hold, ring, talk = _int(msg.get("HoldTime")), _int(msg.get("RingTime")), _int(msg.get("TalkTime"))
    if not call_id or (hold, ring, talk) == (None, None, None):
        return []
    return [QueueCallTimes(call_id, at, source=source, hold_s=hold, ring_s=ring, talk_s=talk)]


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


class Normaliser(CallBook):
    """Feed raw AMI events (``dict[str, str]``) one at a time; get call events back."""

    def __init__(self, agents: AgentBook | None = None, **options: Any) -> None:
        """``options``: ``clock``, ``max_calls``, ``remember_finished`` (see ``CallBook``)."""
        super().__init__(agents, **options)
        self._agent_state: dict[str, tuple[bool, int]] = {}
        self._arrived: OrderedDict[str, None] = OrderedDict()  # calls announced by ``CallArrived``
        self._handlers: dict[str, Callable[[Msg, float], list[CallEvent]]] = {
            "Newchannel": self._on_new_channel,
            "NewCallerid": self._on_new_channel,
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

    def wants(self, event: str) -> bool:
        """Whether an event of this name can produce call events (the rest can be skipped unparsed)."""
        return event in self._handlers

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

    @staticmethod
    def _call_id(msg: Msg, prefix: str = "") -> str:
        return msg.get(f"{prefix}Linkedid") or msg.get(f"{prefix}Uniqueid") or ""

    # ---------------------------------------------------------------- channel events
    def _on_new_channel(self, msg: Msg, at: float) -> list[CallEvent]:
        call_id = self._call_id(msg)
        caller = clean_caller_id(_caller_number(msg))
        if not caller or not call_id or msg.get("Uniqueid", call_id) != call_id:
            return []  # no number yet, or a later channel of the call (operator legs, helpers)
        if call_id in self._arrived or call_id in self.calls or self.is_done(call_id):
            return []
        if self.agents.is_agent(msg.get("Channel", "")) or self.agents.is_agent_extension(caller):
            return []  # placed by an operator
        self._arrived[call_id] = None
        while len(self._arrived) > self._remember:
            self._arrived.popitem(last=False)
        return [CallArrived(call_id, at, caller=caller)]

    # ---------------------------------------------------------------- queue events
    def _on_join(self, msg: Msg, at: float) -> list[CallEvent]:
        _need(msg, "Channel", "Queue")
        call_id = self._call_id(msg)
        if not call_id:
            raise MalformedEvent("QueueCallerJoin without Linkedid/Uniqueid")
        call = self.open_call(call_id, _caller_number(msg), msg["Channel"], at, msg["Queue"])
        out: list[CallEvent] = []
        if call is not None:
            position = int(msg["Position"]) if (msg.get("Position") or "").isdigit() else 0
            self.queued(call, position, at, out)
        return out

    def _on_agent_called(self, msg: Msg, at: float) -> list[CallEvent]:
        _need(msg, "Channel", "Interface")
        self.agents.learn(msg["Interface"])
        call = self.open_call(self._call_id(msg), _caller_number(msg), msg["Channel"], at, msg.get("Queue"))
        out: list[CallEvent] = []
        if call is not None and call.caller_channel == msg["Channel"]:
            self.offer(call, msg["Interface"], msg.get("DestChannel", ""), at, out)
        return out

    def _on_ring_no_answer(self, msg: Msg, at: float) -> list[CallEvent]:
        _need(msg, "Interface")
        call = self.calls.get(self._call_id(msg))
        out: list[CallEvent] = []
        if call is not None and (ring := call.rings.get(msg["Interface"])) is not None:
            self.withdraw(call, ring, "no_answer", at, out)
        return out

    def _on_agent_connect(self, msg: Msg, at: float) -> list[CallEvent]:
        _need(msg, "Interface")
        call = self.calls.get(self._call_id(msg))
        out = _queue_times(msg, at, "connect", self._call_id(msg))
        if call is None:
            return out
        ring = call.rings.get(msg["Interface"])
        if ring is None:  # connect seen without its AgentCalled (e.g. right after a reconnect)
            self.offer(call, msg["Interface"], msg.get("DestChannel", ""), at, out)
            ring = call.rings.get(msg["Interface"])
        if ring is not None:
            self.answer_ring(call, ring, at, out)
        return out

    def _on_abandon(self, msg: Msg, at: float) -> list[CallEvent]:
        call = self.calls.get(self._call_id(msg))
        out = _queue_times(msg, at, "abandon", self._call_id(msg))
        if call is not None and call.answered is None:
            self.abandon(call, at, out, _float(msg.get("HoldTime")))
        return out

    def _on_agent_complete(self, msg: Msg, at: float) -> list[CallEvent]:
        call = self.calls.get(self._call_id(msg))
        out = _queue_times(msg, at, "complete", self._call_id(msg))
        if call is not None and call.answered is not None:
            reason = msg.get("Reason") or None
            self.end(
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
        call = self.open_call(call_id, _caller_number(msg), source, at, None)
        if call is not None:
            self.offer(call, iface, dest, at, out)
        return out

    def _on_dial_end(self, msg: Msg, at: float) -> list[CallEvent]:
        source, dest = msg.get("Channel", ""), msg.get("DestChannel", "")
        call = self.calls.get(self._call_id(msg))
        out: list[CallEvent] = []
        if call is None or not source or source != call.caller_channel:
            return out
        ring = self.ring_by_channel(call, dest)
        if ring is None:
            return out
        status = (msg.get("DialStatus") or "").upper()
        if status == "ANSWER":
            self.answer_ring(call, ring, at, out)
        elif status in NO_ANSWER_STATUSES:
            self.withdraw(call, ring, "no_answer", at, out)
        elif status == "CANCEL" and ring.state == "ringing":
            if call.answered is not None:
                self.withdraw(call, ring, "answered_elsewhere", at, out)
            elif call.caller_gone:
                self.withdraw(call, ring, "caller_left", at, out)
            else:
                ring.state = "cancelled"  # why is not known yet: the next decisive event tells
        return out

    def _on_bridge_enter(self, msg: Msg, at: float) -> list[CallEvent]:
        call = self.calls.get(self._call_id(msg))
        out: list[CallEvent] = []
        ring = self.ring_by_channel(call, msg.get("Channel", "")) if call is not None else None
        if call is not None and ring is not None and (ring.state != "done" or call.answered is None):
            self.answer_ring(call, ring, at, out)
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
            self.end(call, at, out, who, None)
            return out
        if channel == call.caller_channel:
            if call.answered is not None:
                self.end(call, at, out, "caller", None)
            else:
                self.abandon(call, at, out, None)
            return out
        ring = self.ring_by_channel(call, channel)
        if ring is None:
            return out
        if call.answered is ring:
            self.end(call, at, out, "agent", None)
        elif ring.state == "ringing" and call.answered is not None:
            self.withdraw(call, ring, "answered_elsewhere", at, out)
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
        return apply_snapshot(self, list(channels), list(queue_status), self._clock(), self._on_member)

    def member_status(self, msg: Msg, at: float) -> list[CallEvent]:
        return self._on_member(msg, at)


def snapshot_from_status(
    channels: Iterable[Msg], queue_status: Iterable[Msg], **kwargs: object
) -> list[CallEvent]:
    """The call events describing the calls in progress, from ``CoreShowChannels`` + ``QueueStatus``."""
    return Normaliser(**kwargs).resync(channels, queue_status)  # type: ignore[arg-type]
