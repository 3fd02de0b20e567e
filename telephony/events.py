"""The system's call events: what telephony hands to the rest of the workstation.

Each is a frozen dataclass. ``call_id`` is Asterisk's Linkedid of the caller's channel (Uniqueid when
no Linkedid), so every AMI event of one call maps to one key; ``agent`` is the queue member interface
(``PJSIP/1001``, ``Local/1001@agents/n``) and ``extension`` its extension when known; ``at`` is the
Asterisk event time (epoch seconds, from ``Timestamp``) or the receive time.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CallEvent:
    call_id: str
    at: float


@dataclass(frozen=True)
class CallArrived(CallEvent):
    """A new call's caller number is known, from its first channel, while it is still in the IVR and
    before any queue: the moment to start fetching the card (the queue join and the first ring often come
    in the same millisecond). Nothing else follows from it: a call that never reaches an operator leaves
    no trace."""

    caller: str


@dataclass(frozen=True)
class CallQueued(CallEvent):
    """The caller entered a queue: the moment to prefetch the card."""

    caller: str  # CallerIDNum as Asterisk gives it (normalised by the workstation)
    queue: str
    position: int = 0


@dataclass(frozen=True)
class CallOffered(CallEvent):
    """An operator's phone rings for this call (queue AgentCalled or direct DialBegin).

    ``ring`` counts the rings of this operator for this call: a queue that rings them again on its next
    round sends ``ring=2``, a new pop; repeated events of one ring are one ``CallOffered``."""

    caller: str
    agent: str
    extension: str | None = None
    queue: str | None = None
    ring: int = 1


@dataclass(frozen=True)
class CallOfferWithdrawn(CallEvent):
    """The ring on this operator stopped without them answering.

    reason: ``answered_elsewhere`` (ring-all: another operator took it), ``no_answer`` (ring timeout,
    the call moves on), ``caller_left`` (abandoned while ringing).
    """

    agent: str
    reason: str
    extension: str | None = None
    ring: int = 1


@dataclass(frozen=True)
class CallAnswered(CallEvent):
    caller: str
    agent: str
    extension: str | None = None
    queue: str | None = None
    hold_s: float | None = None
    ring_s: float | None = None


@dataclass(frozen=True)
class CallEnded(CallEvent):
    """An answered call is over (either side hung up)."""

    agent: str | None = None
    extension: str | None = None
    talk_s: float | None = None
    hangup_by: str | None = None  # "caller" | "agent" | None


@dataclass(frozen=True)
class CallAbandoned(CallEvent):
    """The caller hung up before any operator answered."""

    caller: str = ""
    queue: str | None = None
    wait_s: float | None = None


@dataclass(frozen=True)
class QueueCallTimes(CallEvent):
    """Asterisk's own whole-second figures for a queue call, as app_queue reports them.

    source ``connect``: ``AgentConnect`` HoldTime (join to answer) and RingTime (the answering member's
    ring); ``complete``: ``AgentComplete`` HoldTime and TalkTime; ``abandon``: ``QueueCallerAbandon``
    HoldTime (join to hang-up).
    """

    source: str = ""
    hold_s: int | None = None
    ring_s: int | None = None
    talk_s: int | None = None


@dataclass(frozen=True)
class AgentStatus(CallEvent):
    """Queue member state (device state / paused) as Asterisk reports it."""

    agent: str = ""
    paused: bool = False
    device_state: int = 0
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TelephonyLink(CallEvent):
    """The AMI connection went up or down (``up``); ``call_id`` is empty."""

    up: bool = False
    detail: str = ""


ALL_EVENTS = (
    CallArrived,
    CallQueued,
    CallOffered,
    CallOfferWithdrawn,
    CallAnswered,
    CallEnded,
    CallAbandoned,
    QueueCallTimes,
    AgentStatus,
    TelephonyLink,
)
