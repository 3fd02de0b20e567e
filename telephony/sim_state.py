"""What the simulated Asterisk knows at any moment: live channels, queue callers, queue members.

It is updated from the very events the simulator sends, so ``CoreShowChannels`` and ``QueueStatus``
answer truthfully mid-call, with the list items and header orders of Asterisk 22 (see
``actions_live_call.txt``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from telephony.protocol import Frame, as_dict
from telephony.sim_queue import QueueBook

CHANNEL_FIELDS = (
    "ChannelState",
    "ChannelStateDesc",
    "CallerIDNum",
    "CallerIDName",
    "ConnectedLineNum",
    "ConnectedLineName",
    "Language",
    "AccountCode",
    "Context",
    "Exten",
    "Priority",
    "Uniqueid",
    "Linkedid",
)
MEMBER_FIELDS = (
    "CallsTaken",
    "LastCall",
    "LastPause",
    "LoginTime",
    "InCall",
    "Status",
    "Paused",
    "PausedReason",
)


@dataclass
class Member:
    queue: str
    interface: str
    name: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class SimState:
    channels: dict[str, dict[str, str]] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)
    entries: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)  # queue -> channel -> entry
    members: dict[tuple[str, str], Member] = field(default_factory=dict)
    queues: QueueBook = field(default_factory=QueueBook)
    queue_names: set[str] = field(default_factory=lambda: {"support"})

    def add_member(self, queue: str, interface: str, name: str) -> None:
        now = str(int(time.time()))
        m = self.members.setdefault((queue, interface), Member(queue, interface, name))
        m.name = name
        defaults = {"CallsTaken": "0", "LastCall": "0", "LastPause": "0", "LoginTime": now, "InCall": "0"}
        for k, v in {**defaults, "Status": "1", "Paused": "0", "PausedReason": ""}.items():
            m.fields.setdefault(k, v)
        self.queue_names.add(queue)

    def with_live_pause(self, frame: Frame) -> Frame:
        """A scripted ``QueueMemberStatus`` reports the member's pause as it is now, as app_queue does: a
        capture's recorded "Paused: 0" must not unpause an operator paused for after-call work."""
        msg = as_dict(frame)
        if msg.get("Event") != "QueueMemberStatus":
            return frame
        m = self.members.get((msg.get("Queue", ""), msg.get("Interface", "")))
        if m is None:
            return frame
        live = {"Paused": m.fields.get("Paused", "0"), "PausedReason": m.fields.get("PausedReason", "")}
        return [(k, live.get(k, v)) for k, v in frame]

    def apply(self, frame: Frame) -> None:
        """Update the picture from one event that is being sent."""
        msg = as_dict(frame)
        event = msg.get("Event", "")
        chan = msg.get("Channel", "")
        if event == "Newchannel" and chan:
            self.channels[chan] = {k: msg.get(k, "") for k in CHANNEL_FIELDS}
            self.channels[chan].update(Application="", ApplicationData="", BridgeId="")
            self.started[chan] = time.monotonic()
        elif event == "Hangup":
            self.channels.pop(chan, None)
            self.started.pop(chan, None)
        elif chan in self.channels:
            state = self.channels[chan]
            for k in CHANNEL_FIELDS:
                if k in msg and k not in ("Uniqueid", "Linkedid"):
                    state[k] = msg[k]
            if event == "Newexten":
                state["Application"] = msg.get("Application", "")
                state["ApplicationData"] = msg.get("AppData", "")
            elif event == "BridgeEnter":
                state["BridgeId"] = msg.get("BridgeUniqueid", "")
            elif event == "BridgeLeave":
                state["BridgeId"] = ""
        if event == "DialBegin" and msg.get("DestChannel") in self.channels:
            dest = self.channels[msg["DestChannel"]]
            queue_app = self.channels.get(chan, {}).get("Application") == "Queue"
            dest["Application"] = "AppQueue" if queue_app else "AppDial"
            dest["ApplicationData"] = "(Outgoing Line)"
        self._apply_queue(event, msg)

    def _apply_queue(self, event: str, msg: dict[str, str]) -> None:
        queue = msg.get("Queue", "")
        if event == "QueueCallerJoin":
            self.queue_names.add(queue)
            self.entries.setdefault(queue, {})[msg["Channel"]] = {
                "Uniqueid": msg.get("Uniqueid", ""),
                "CallerIDNum": msg.get("CallerIDNum", ""),
                "CallerIDName": msg.get("CallerIDName", "").strip("<>"),
                "ConnectedLineNum": msg.get("ConnectedLineNum", ""),
                "ConnectedLineName": msg.get("ConnectedLineName", "").strip("<>"),
                "joined": str(time.monotonic()),
            }
        elif event in ("QueueCallerLeave", "QueueCallerAbandon"):
            self.entries.get(queue, {}).pop(msg.get("Channel", ""), None)
        elif event in ("QueueMemberStatus", "QueueMemberPause", "QueueMemberAdded") and msg.get("Interface"):
            self.add_member(queue, msg["Interface"], msg.get("MemberName", msg["Interface"]))
            m = self.members[(queue, msg["Interface"])]
            for k in MEMBER_FIELDS:
                if k in msg:
                    m.fields[k] = msg[k]

    def age(self, seconds: float) -> None:
        """Make every live channel and queue caller ``seconds`` older, as if the calls began earlier (what
        ``Duration`` and ``Wait`` report to a client that first learns of them by status)."""
        for chan in self.started:
            self.started[chan] -= seconds
        for entries in self.entries.values():
            for e in entries.values():
                e["joined"] = str(float(e["joined"]) - seconds)

    # ------------------------------------------------------------------ action answers
    def queue_summary(self, action_id: str, only_queue: str = "") -> list[Frame]:
        """``QueueSummary`` items as app_queue builds them (members not unavailable; available = not in
        use and not paused; the longest wait of the callers now)."""
        items: list[Frame] = []
        now = time.monotonic()
        for queue in sorted(self.queue_names):
            if only_queue and queue != only_queue:
                continue
            members = [m for (q, _), m in self.members.items() if q == queue]
            logged_in = [m for m in members if m.fields.get("Status") not in ("5", "4")]
            available = [
                m for m in logged_in if m.fields.get("Status") == "1" and m.fields.get("Paused") != "1"
            ]
            entries = self.entries.get(queue, {})
            longest = max((int(now - float(e["joined"])) for e in entries.values()), default=0)
            st = self.queues.queue(queue)
            items.append(
                [
                    ("Event", "QueueSummary"),
                    ("Queue", queue),
                    ("LoggedIn", str(len(logged_in))),
                    ("Available", str(len(available))),
                    ("Callers", str(len(entries))),
                    ("HoldTime", str(st.holdtime)),
                    ("TalkTime", str(st.talktime)),
                    ("LongestHoldTime", str(longest)),
                    ("ActionID", action_id),
                ]
            )
        return items

    def core_show_channels(self, action_id: str) -> list[Frame]:
        items: list[Frame] = []
        now = time.monotonic()
        for name in reversed(list(self.channels)):
            st = self.channels[name]
            secs = int(now - self.started.get(name, now))
            duration = f"{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}"
            frame: Frame = [("Event", "CoreShowChannel"), ("ActionID", action_id), ("Channel", name)]
            frame += [(k, st.get(k, "")) for k in CHANNEL_FIELDS]
            frame += [
                ("Application", st.get("Application", "")),
                ("ApplicationData", st.get("ApplicationData", "")),
                ("Duration", duration),
                ("BridgeId", st.get("BridgeId", "")),
            ]
            items.append(frame)
        return items

    def queue_status(self, action_id: str, only_queue: str = "") -> list[Frame]:
        items: list[Frame] = []
        now = time.monotonic()
        for queue in sorted(self.queue_names):
            if only_queue and queue != only_queue:
                continue
            entries = self.entries.get(queue, {})
            st = self.queues.queue(queue)
            sl, sl2 = st.perf()
            items.append(
                [
                    ("Event", "QueueParams"),
                    ("Queue", queue),
                    ("Max", "0"),
                    ("Strategy", "linear"),
                    ("Calls", str(len(entries))),
                    ("Holdtime", str(st.holdtime)),
                    ("TalkTime", str(st.talktime)),
                    ("Completed", str(st.completed)),
                    ("Abandoned", str(st.abandoned)),
                    ("ServiceLevel", str(st.servicelevel)),
                    ("ServicelevelPerf", f"{sl:.1f}"),
                    ("ServicelevelPerf2", f"{sl2:.1f}"),
                    ("Weight", "0"),
                    ("ActionID", action_id),
                ]
            )
            for (q, iface), m in self.members.items():
                if q != queue:
                    continue
                f = m.fields
                items.append(
                    [("Event", "QueueMember"), ("Queue", queue), ("Name", m.name), ("Location", iface)]
                    + [("StateInterface", iface), ("Membership", "static"), ("Penalty", "0")]
                    + [(k, f.get(k, "")) for k in MEMBER_FIELDS[:6]]
                    + [("Paused", f.get("Paused", "0")), ("PausedReason", f.get("PausedReason", ""))]
                    + [("Wrapuptime", "0"), ("ActionID", action_id)]
                )
            for pos, (chan, e) in enumerate(entries.items(), start=1):
                wait = int(now - float(e["joined"]))
                items.append(
                    [("Event", "QueueEntry"), ("Queue", queue), ("Position", str(pos)), ("Channel", chan)]
                    + [(k, e[k]) for k in ("Uniqueid", "CallerIDNum", "CallerIDName")]
                    + [(k, e[k]) for k in ("ConnectedLineNum", "ConnectedLineName")]
                    + [("Wait", str(wait)), ("Priority", "0"), ("ActionID", action_id)]
                )
        return items
