"""Live calls and the rule that each call event is emitted at most once per (call, kind, operator).

``CallBook`` keeps the calls being followed, their rings (one per operator), and turns state changes into
the system's call events. ``Normaliser`` (AMI events) and ``telephony.resync`` (status snapshots) both
drive it, so a fact learnt twice, live and from a snapshot, is still announced once.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from telephony.channels import AgentBook, extension_of
from telephony.events import (
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallEvent,
    CallOffered,
    CallOfferWithdrawn,
    CallQueued,
)

log = logging.getLogger(__name__)


# a raw AMI message: header → value
Msg = dict[str, str]


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
    number: int = 1  # 1 for the first ring of this operator for the call, 2 for the next round…

    @property
    def key(self) -> str:
        """The emission key of this ring: each ring of an operator pops (and is withdrawn) once."""
        return self.agent if self.number == 1 else f"{self.agent}#{self.number}"


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


CALLER_MAX = 32  # what history keeps of a caller id (``calls.caller``)
FIELD_MAX = 64  # call ids, queue names


def clean_field(value: str, limit: int) -> str:
    """Printable characters only (no NUL, no control characters), trimmed to ``limit``."""
    return "".join(ch for ch in value if ch.isprintable()).strip()[:limit]


def clean_caller_id(raw: str) -> str:
    """The caller id as the rest of the system may keep it: a PBX passes whatever the network sent
    (500 digits, NUL bytes, control characters); history, cards and logs get at most 32 printable
    characters."""
    return clean_field(raw or "", CALLER_MAX)


class CallBook:
    """The calls being followed (bounded) and the once-only emission of their events."""

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

    def is_done(self, call_id: str) -> bool:
        return call_id in self._finished

    def forget(self, call: Call) -> None:
        self.calls.pop(call.call_id, None)
        self._finished[call.call_id] = None
        while len(self._finished) > self._remember:
            self._finished.popitem(last=False)

    def open_call(self, call_id: str, caller: str, channel: str, at: float, queue: str | None) -> Call | None:
        """Find or create the call; None for finished or internal calls (and ids no history could hold)."""
        caller = clean_caller_id(caller)
        queue = clean_field(queue, FIELD_MAX) or None if queue else queue
        if not call_id or self.is_done(call_id) or len(call_id) > FIELD_MAX or not call_id.isprintable():
            return None
        call = self.calls.get(call_id)
        if call is None:
            if self.agents.is_agent(channel) or self.agents.is_agent_extension(caller):
                return None  # placed by an operator: internal, never pops
            if len(self.calls) >= self._max_calls:
                oldest = min(self.calls.values(), key=lambda c: c.started)
                log.warning("too many live calls; forgetting the oldest (%s)", oldest.call_id)
                self.forget(oldest)
            call = Call(call_id, caller, channel, at, queue)
            self.calls[call_id] = call
        if queue and not call.queue:
            call.queue = queue
        if caller and not call.caller:
            call.caller = caller
        return call

    @staticmethod
    def once(call: Call, kind: str, agent: str, event: CallEvent, out: list[CallEvent]) -> None:
        key = (kind, agent)
        if key not in call.emitted:
            call.emitted.add(key)
            out.append(event)

    def offer(self, call: Call, agent: str, channel: str, at: float, out: list[CallEvent]) -> None:
        if call.answered is not None or call.caller_gone:
            return
        # a new ring means any earlier ring whose reason was pending has moved on without an answer
        for other in call.rings.values():
            if other.state == "cancelled" and other.agent != agent:
                self.withdraw(call, other, "no_answer", at, out)
        ring = call.rings.get(agent)
        if ring is not None and ring.state != "ringing" and channel and channel != ring.channel:
            # the queue rings this operator again (the next round of a linear or ring-all queue): a new
            # ring, and a new pop; the same ring seen again (AgentCalled, then DialBegin) is not
            self.withdraw(call, ring, "no_answer", at, out)
            ring = call.rings[agent] = Ring(agent, extension_of(agent), channel, at, number=ring.number + 1)
        if ring is None:
            ring = call.rings[agent] = Ring(agent, extension_of(agent), channel, at)
        elif ring.state != "done":
            ring.channel = channel or ring.channel
        ext = ring.extension
        ev = CallOffered(
            call.call_id,
            at,
            caller=call.caller,
            agent=agent,
            extension=ext,
            queue=call.queue,
            ring=ring.number,
        )
        self.once(call, "offered", ring.key, ev, out)

    def withdraw(self, call: Call, ring: Ring, reason: str, at: float, out: list[CallEvent]) -> None:
        if ring.state == "done":
            return
        ring.state = "done"
        ev = CallOfferWithdrawn(
            call.call_id, at, agent=ring.agent, reason=reason, extension=ring.extension, ring=ring.number
        )
        self.once(call, "withdrawn", ring.key, ev, out)

    def answer_ring(self, call: Call, ring: Ring, at: float, out: list[CallEvent]) -> None:
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
        self.once(call, "answered", ring.agent, ev, out)
        for other in call.rings.values():
            if other is not ring:
                self.withdraw(call, other, "answered_elsewhere", at, out)

    def end(
        self, call: Call, at: float, out: list[CallEvent], hangup_by: str | None, talk: float | None
    ) -> None:
        ring = call.answered
        assert ring is not None
        if talk is None and call.answered_at is not None:
            talk = round(at - call.answered_at, 3)
        ev = CallEnded(
            call.call_id, at, agent=ring.agent, extension=ring.extension, talk_s=talk, hangup_by=hangup_by
        )
        self.once(call, "ended", ring.agent, ev, out)
        self.forget(call)

    def abandon(self, call: Call, at: float, out: list[CallEvent], wait: float | None) -> None:
        call.caller_gone = True
        for ring in call.rings.values():
            self.withdraw(call, ring, "caller_left", at, out)
        if wait is None:
            wait = round(at - call.started, 3)
        ev = CallAbandoned(call.call_id, at, caller=call.caller, queue=call.queue, wait_s=wait)
        self.once(call, "abandoned", "", ev, out)
        self.forget(call)

    def ring_by_channel(self, call: Call, channel: str) -> Ring | None:
        for ring in call.rings.values():
            if ring.channel == channel:
                return ring
        return None

    def answer(self, call: Call, agent: str, at: float, out: list[CallEvent]) -> None:
        ring = call.rings.get(agent)
        if ring is not None:
            self.answer_ring(call, ring, at, out)

    def queued(self, call: Call, position: int, at: float, out: list[CallEvent]) -> None:
        ev = CallQueued(call.call_id, at, caller=call.caller, queue=call.queue or "", position=position)
        self.once(call, "queued", "", ev, out)

    def finish(self, call: Call, at: float, out: list[CallEvent]) -> None:
        """The call is gone: end or abandon it."""
        if call.answered is not None:
            self.end(call, at, out, None, None)
        else:
            self.abandon(call, at, out, None)
