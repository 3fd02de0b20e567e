"""The manager-interface side of the AMI simulator: the TCP server and what it answers.

``SimulatedManager`` speaks AMI like Asterisk 22's manager.c: the greeting, ``Login`` (a bad secret
gets ``Authentication failed`` after ``auth_fail_delay`` and the socket is closed), ``Logoff``, ``Ping``,
``Events``, the event-list actions ``CoreShowChannels`` / ``QueueStatus`` / ``QueueSummary`` answered
from the simulated PBX state (``telephony.sim_state``), ``Originate``, ``QueuePause``, and the faults of a
real PBX (missing ``write =`` classes, ``shutting_down``, ``silent``). ``broadcast`` sends an event to
every logged-in session and applies it to the state. Calls are played by ``telephony.simulator``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from telephony.permissions import PERMISSION_DENIED, SHUTTING_DOWN, allowed, parse_classes
from telephony.protocol import GREETING, Frame, FrameReader, as_dict, encode
from telephony.sim_state import SimState

log = logging.getLogger("telephony.simulator")  # the name its records have always had

MAX_CLIENT_BUFFER = 8 * 1024 * 1024


@dataclass(eq=False)
class Session:
    writer: asyncio.StreamWriter
    authed: bool = False
    events: bool = True

    def send(self, data: bytes) -> None:
        if self.writer.is_closing():
            return
        if self.writer.transport.get_write_buffer_size() > MAX_CLIENT_BUFFER:
            log.warning("AMI client too slow; closing its session")
            self.writer.transport.abort()
            return
        self.writer.write(data)


class SimulatedManager:
    """Asterisk's manager interface over real TCP, without the calls (see ``AmiSimulator``)."""

    def __init__(
        self,
        username: str = "ccw",
        secret: str = "secret",
        auth_fail_delay: float = 1.0,
        write: str = "all",
    ) -> None:
        """``write``: the manager.conf ``write =`` classes of the user (``all``, ``system,call,…``)."""
        self.username, self.secret = username, secret
        self.write = parse_classes(write)
        self.auth_fail_delay = auth_fail_delay  # Asterisk sleeps 1 s before refusing a login
        self.state = SimState()
        self.sessions: set[Session] = set()
        self.pops: dict[tuple[str, str], tuple[float, float]] = {}  # (call_id, agent) -> (monotonic, epoch)
        self.originates: list[dict[str, str]] = []
        self.logins = 0
        self.silent = False  # True: actions get no answer (a hung Asterisk behind an open socket)
        self.refused_actions: set[str] = set()  # lower-case action names answered "Permission denied"
        self.shutting_down = False  # True: every action answers "Asterisk is shutting down"
        self.pause_actions: list[dict[str, str]] = []  # QueuePause actions received (lower-case keys)
        self._server: asyncio.Server | None = None
        self._started = time.time()
        self.host, self.port = "127.0.0.1", 0

    # ------------------------------------------------------------------ server
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen; returns the bound port (``port=0`` lets the OS choose)."""
        self._server = await asyncio.start_server(self._serve, host, port)
        self.host, self.port = host, self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        self.drop_connections()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def drop_connections(self) -> None:
        """Cut every client socket (like a network loss or an Asterisk restart)."""
        for s in list(self.sessions):
            s.writer.transport.abort()
        self.sessions.clear()

    def shutdown_notice(self) -> None:
        """``Event: Shutdown`` as Asterisk sends it when ``core restart`` begins."""
        self.broadcast(
            [
                ("Event", "Shutdown"),
                ("Privilege", "system,all"),
                ("Timestamp", ""),
                ("Shutdown", "Cleanly"),
                ("Restart", "True"),
            ]
        )

    @property
    def clients(self) -> int:
        return sum(1 for s in self.sessions if s.authed)

    async def wait_for_clients(self, n: int = 1, deadline_s: float = 10.0) -> None:
        deadline = time.monotonic() + deadline_s
        while self.clients < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.clients} AMI clients logged in, expected {n}")
            await asyncio.sleep(0.01)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(writer)
        self.sessions.add(session)
        writer.write(GREETING)
        parser = FrameReader()
        try:
            while data := await reader.read(65536):
                for frame in parser.feed(data):
                    if not await self._action(session, frame):
                        return
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.sessions.discard(session)
            writer.close()

    def _reply(self, session: Session, action_id: str, status: str, *headers: tuple[str, str]) -> None:
        frame: Frame = [("Response", status)]
        if action_id:
            frame.append(("ActionID", action_id))
        session.send(encode(frame + list(headers)))

    async def _action(self, session: Session, frame: Frame) -> bool:
        """Handle one action; False closes the connection."""
        if self.silent:
            return True  # a hung PBX: the socket stays open, nothing is answered
        msg = {k.lower(): v for k, v in as_dict(frame).items()}
        action, aid = msg.get("action", "").lower(), msg.get("actionid", "")
        if not action:
            self._reply(session, aid, "Error", ("Message", "Missing action in request"))
            return True
        if self.shutting_down:  # manager.c process_message: checked before anything else, Login too
            self._reply(session, aid, "Error", ("Message", SHUTTING_DOWN))
            return True
        if action == "login":
            if session.authed:
                self._reply(session, aid, "Success", ("Message", "Already authenticated"))
                return True
            if msg.get("username") != self.username or msg.get("secret") != self.secret:
                log.info("simulated AMI: authentication failed")
                await asyncio.sleep(self.auth_fail_delay)
                self._reply(session, aid, "Error", ("Message", "Authentication failed"))
                await session.writer.drain()
                return False
            return self._login(session, aid, msg)
        if action == "logoff":
            self._reply(session, aid, "Goodbye", ("Message", "Thanks for all the fish."))
            await session.writer.drain()
            return False
        if not session.authed:
            self._reply(session, aid, "Error", ("Message", "Authentication Required"))
            return True
        if action in self.refused_actions or not allowed(action, self.write):
            self._reply(session, aid, "Error", ("Message", PERMISSION_DENIED))
            return True
        if action == "ping":
            self._reply(session, aid, "Success", ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}"))
        elif action == "events":
            session.events = msg.get("eventmask", "on").lower() != "off"
            self._reply(session, aid, "Success", ("Events", "On" if session.events else "Off"))
        elif action == "coreshowchannels":
            self._list(
                session,
                aid,
                "Channels will follow",
                "CoreShowChannelsComplete",
                self.state.core_show_channels(aid),
            )
        elif action == "queuestatus":
            items = self.state.queue_status(aid, msg.get("queue", ""))
            self._list(session, aid, "Queue status will follow", "QueueStatusComplete", items)
        elif action == "queuesummary":
            items = self.state.queue_summary(aid, msg.get("queue", ""))
            self._list(session, aid, "Queue summary will follow", "QueueSummaryComplete", items)
        elif action == "originate":
            self._originate(session, aid, msg)
        elif action == "queuepause":
            self._queue_pause(session, aid, msg)
        else:
            self._reply(session, aid, "Error", ("Message", "Invalid/unknown command"))
        return True

    def _queue_pause(self, session: Session, aid: str, msg: dict[str, str]) -> None:
        """``QueuePause`` as app_queue answers it: the member's queues get a ``QueueMemberPause``."""
        interface, queue = msg.get("interface", ""), msg.get("queue", "")
        if not interface or "paused" not in msg:
            self._reply(session, aid, "Error", ("Message", "Need 'Interface' and 'Paused' parameters."))
            return
        paused = msg["paused"].lower() in ("1", "true", "yes", "on")
        self.pause_actions.append(dict(msg))
        queues = [queue] if queue else sorted(self.state.queue_names)
        members = [m for q in queues if (m := self.state.members.get((q, interface))) is not None]
        if not members:
            self._reply(session, aid, "Error", ("Message", "Interface not found"))
            return
        self._reply(
            session,
            aid,
            "Success",
            ("Message", "Interface paused successfully" if paused else "Interface unpaused successfully"),
        )
        for m in members:
            self.broadcast(
                [
                    ("Event", "QueueMemberPause"),
                    ("Privilege", "agent,all"),
                    ("Timestamp", ""),
                    ("Queue", m.queue),
                    ("MemberName", m.name),
                    ("Interface", m.interface),
                    ("StateInterface", m.interface),
                    ("Membership", "static"),
                    ("Penalty", "0"),
                    ("CallsTaken", m.fields.get("CallsTaken", "0")),
                    ("LastCall", m.fields.get("LastCall", "0")),
                    ("LastPause", str(int(time.time()))),
                    ("LoginTime", m.fields.get("LoginTime", "0")),
                    ("InCall", m.fields.get("InCall", "0")),
                    ("Status", m.fields.get("Status", "1")),
                    ("Paused", "1" if paused else "0"),
                    ("PausedReason", msg.get("reason", "") if paused else ""),
                    ("Ringinuse", "0"),
                    ("Wrapuptime", "0"),
                ]
            )

    def paused_agents(self) -> set[str]:
        return {i for (_, i), m in self.state.members.items() if m.fields.get("Paused") == "1"}

    def is_paused(self, interface: str) -> bool:
        """Paused in any queue (a look-up per queue, not a scan of every member)."""
        for q in self.state.queue_names:
            m = self.state.members.get((q, interface))
            if m is not None and m.fields.get("Paused") == "1":
                return True
        return False

    def _login(self, session: Session, aid: str, msg: dict[str, str]) -> bool:
        session.authed = True
        session.events = msg.get("events", "on").lower() != "off"
        self.logins += 1
        self._reply(session, aid, "Success", ("Message", "Authentication accepted"))
        if session.events:
            up = str(int(time.time() - self._started))
            session.send(
                encode(
                    [
                        ("Event", "FullyBooted"),
                        ("Privilege", "system,all"),
                        ("Uptime", up),
                        ("LastReload", up),
                        ("Status", "Fully Booted"),
                    ]
                )
            )
        return True

    def _list(self, session: Session, aid: str, message: str, complete: str, items: list[Frame]) -> None:
        self._reply(session, aid, "Success", ("EventList", "start"), ("Message", message))
        for item in items:
            session.send(encode(item))
        tail: Frame = [
            ("Event", complete),
            ("ActionID", aid),
            ("EventList", "Complete"),
            ("ListItems", str(len(items))),
        ]
        session.send(encode(tail))

    def _originate(self, session: Session, aid: str, msg: dict[str, str]) -> None:
        channel = msg.get("channel", "")
        if not channel:
            self._reply(session, aid, "Error", ("Message", "Channel not specified"))
            return
        if not msg.get("exten") and not msg.get("application"):
            self._reply(session, aid, "Error", ("Message", "Exten not specified"))
            return
        if "/" not in channel:  # action_originate: no technology in the channel name
            self._reply(session, aid, "Error", ("Message", "Invalid channel"))
            return
        self.originates.append(dict(msg))
        self._reply(session, aid, "Success", ("Message", "Originate successfully queued"))
        uid = f"{int(time.time())}.{len(self.originates) + 900000}"
        resp: Frame = [
            ("Event", "OriginateResponse"),
            ("Privilege", "call,all"),
            ("Timestamp", f"{time.time():.6f}"),
            ("ActionID", aid),
            ("Response", "Success"),
            ("Channel", channel),
            ("Context", msg.get("context", "")),
            ("Exten", msg.get("exten", "")),
            ("Reason", "4"),
            ("Uniqueid", uid),
            ("CallerIDNum", msg.get("callerid", "<unknown>")),
            ("CallerIDName", "<unknown>"),
        ]
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, self.broadcast, resp)

    # ------------------------------------------------------------------ events out
    def broadcast(self, frame: Frame, pop_key: tuple[str, str] | None = None, stamp: bool = True) -> None:
        """Send one event to every logged-in session with events on (Timestamp set to now)."""
        if stamp:
            now = f"{time.time():.6f}"
            frame = [(k, now if k == "Timestamp" else v) for k, v in frame]
        frame = self.state.with_live_pause(frame)
        frame = self.state.queues.stamp(frame, own_clock=stamp)
        self.state.apply(frame)
        if pop_key is not None and pop_key not in self.pops:
            self.pops[pop_key] = (time.monotonic(), time.time())
        data = encode(frame)
        for s in list(self.sessions):
            if s.authed and s.events:
                s.send(data)
