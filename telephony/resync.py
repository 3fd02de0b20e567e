"""Rebuild the live-call picture from ``CoreShowChannels`` and ``QueueStatus`` after a (re)connect.

Channels are grouped by ``Linkedid``. In each group the caller channel is the one running ``Queue`` (a
queue call) or ``Dial`` (a direct call); operator channels are the ones the agent book recognises
(``Local`` ``;2`` halves are helper legs and skipped). An operator channel that is ``Up`` means the call
was answered by that operator, any other state means their phone rings.

A snapshot never moves a time already known. A call first learnt from it gets Asterisk's own figures:
queued ``Wait`` seconds ago (``QueueEntry``), else when its caller channel began (``Duration``); each
ring when the operator's channel began; the answer no later than that (CoreShowChannels tells no bridge
time, so a talk time measured from it can include up to one ring).
"""

from __future__ import annotations

from collections.abc import Callable

from telephony.call_book import CallBook, Msg
from telephony.channels import parse_name
from telephony.events import CallEvent

# a queue member's status as the normaliser reads ``QueueMemberStatus``: (message, at) → events
MemberStatus = Callable[[Msg, float], list[CallEvent]]

CALLER_APPS = ("Queue", "Dial")
UP = "6"


def _seconds(duration: str | None) -> float:
    """``HH:MM:SS`` → seconds (0 when unparseable)."""
    try:
        h, m, s = (int(x) for x in (duration or "").split(":"))
    except ValueError:
        return 0.0
    return float(h * 3600 + m * 60 + s)


def _caller_channel(chans: list[Msg], norm: CallBook) -> Msg | None:
    for app in CALLER_APPS:
        for ch in chans:
            if ch.get("Application") == app and not norm.agents.is_agent(ch.get("Channel", "")):
                return ch
    return None


def _agent_channels(chans: list[Msg], norm: CallBook) -> list[Msg]:
    out = []
    for ch in chans:
        name = ch.get("Channel", "")
        parsed = parse_name(name)
        if parsed is None or parsed.half == "2" or not norm.agents.is_agent(name):
            continue
        out.append(ch)
    return out


def _learn_members(
    member_status: MemberStatus, queue_status: list[Msg], now: float
) -> tuple[list[CallEvent], dict[str, Msg]]:
    out: list[CallEvent] = []
    entries: dict[str, Msg] = {}
    for m in queue_status:
        kind = m.get("Event")
        if kind == "QueueMember":
            iface = m.get("Location") or m.get("Interface") or ""
            if iface:
                member = {
                    "Interface": iface,
                    "Paused": m.get("Paused", "0"),
                    "Status": m.get("Status", "0"),
                    "Queue": m.get("Queue", ""),
                    "MemberName": m.get("Name", ""),
                    "PausedReason": m.get("PausedReason", ""),
                }
                out += member_status(member, now)
        elif kind == "QueueEntry" and m.get("Channel"):
            entries[m["Channel"]] = m
    return out, entries


def apply_snapshot(
    norm: CallBook, channels: list[Msg], queue_status: list[Msg], now: float, member_status: MemberStatus
) -> list[CallEvent]:
    """Feed a status snapshot into the call book ``norm``; returns only the events that are new to it.
    ``member_status`` turns each queue member of ``QueueStatus`` into agent events."""
    out, entries = _learn_members(member_status, queue_status, now)
    groups: dict[str, list[Msg]] = {}
    for ch in channels:
        if ch.get("Event") == "CoreShowChannel" and ch.get("Channel"):
            key = ch.get("Linkedid") or ch.get("Uniqueid") or ""
            if key:
                groups.setdefault(key, []).append(ch)

    live: set[str] = set()
    for call_id, chans in groups.items():
        caller = _caller_channel(chans, norm)
        if caller is None:
            continue
        agents = _agent_channels(chans, norm)
        entry = entries.get(caller["Channel"])
        in_queue = caller.get("Application") == "Queue"
        if not agents and not in_queue:
            continue
        queue = (entry or {}).get("Queue") or (
            caller.get("ApplicationData", "").split(",")[0] if in_queue else None
        )
        number = caller.get("CallerIDNum", "")
        number = "" if number in ("<unknown>", "unknown") else number
        wait = (entry or {}).get("Wait", "")
        started = now - (float(wait) if wait.isdigit() else _seconds(caller.get("Duration")))
        call = norm.open_call(call_id, number, caller["Channel"], started, queue or None)
        if call is None:
            continue
        live.add(call_id)
        if in_queue:
            pos = (entry or {}).get("Position", "0")
            norm.queued(call, int(pos) if pos.isdigit() else 0, call.started, out)
        present: set[str] = set()
        answered_by: tuple[str, float] | None = None
        for ch in agents:
            iface = norm.agents.interface_for(ch["Channel"])
            present.add(iface)
            rang_at = max(call.started, now - _seconds(ch.get("Duration")))
            norm.offer(call, iface, ch["Channel"], rang_at, out)
            if ch.get("ChannelState") == UP and answered_by is None:
                answered_by = (iface, rang_at)
        if answered_by is not None:
            norm.answer(call, answered_by[0], answered_by[1], out)
        for ring in list(call.rings.values()):
            if ring.state != "done" and ring.agent not in present:
                norm.withdraw(call, ring, "no_answer", now, out)

    for call in list(norm.calls.values()):
        if call.call_id not in live:
            norm.finish(call, now, out)
    return out
