"""An asyncio TCP server that speaks AMI like Asterisk 22, for the demo, the tests and the benchmark.

It answers ``Login`` (a bad secret gets ``Authentication failed`` and the socket is closed, as
Asterisk does), ``Ping``, ``Logoff``, ``Events``, ``CoreShowChannels``, ``QueueStatus`` (with app_queue's
service-level statistics, ``telephony.sim_queue``), ``QueueSummary`` (event lists
with ``EventList: start`` / ``…Complete``), ``Originate``, ``QueuePause``; anything else gets
``Invalid/unknown command``. Faults of a real PBX can be switched on: a manager user without some
``write =`` classes (``write="system,call,originate,reporting"``: ``QueuePause`` answers
``Permission denied``, as Asterisk does), a shutdown (``shutting_down``: every action, ``Login``
included, answers ``Asterisk is shutting down``), a restart (``restart()``: calls gone, static members
back unpaused), a hung PBX (``silent``). Calls are played from the real captures (``telephony.scenarios``) with
fresh identities, at a chosen speed; every event sent also updates the simulated PBX state so the
status actions answer truthfully mid-call.

    sim = AmiSimulator("ccw", "secret")
    port = await sim.start()
    await sim.play("answered", caller="+79161234567", agents=["Local/1001@agents/n"])
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from telephony.channels import extension_of
from telephony.permissions import PERMISSION_DENIED, SHUTTING_DOWN, allowed, parse_classes
from telephony.protocol import GREETING, Frame, FrameReader, as_dict, encode, get, read_trace
from telephony.scenarios import LOGIN_NOISE, CallScript, instantiate, template
from telephony.sim_state import SimState

log = logging.getLogger(__name__)

AgentSpec = str | tuple[str, str]
DEFAULT_MIX = {"answered": 0.5, "ringnoanswer": 0.15, "ringall": 0.1, "direct": 0.15, "abandon": 0.1}
AGENTS_NEEDED = {
    "answered": 1,
    "ringnoanswer": 2,
    "ringtwice": 1,
    "ringall": 2,
    "direct": 1,
    "abandon": 0,
    "concurrent": 2,
}
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


def _agents(specs: Iterable[AgentSpec]) -> list[tuple[str, str]]:
    out = []
    for a in specs:
        if isinstance(a, str):
            out.append((a, f"Operator {extension_of(a) or a}"))
        else:
            out.append((a[0], a[1]))
    return out


def _pick_free(
    rng: random.Random,
    pool: list[tuple[str, str]],
    need: int,
    busy: set[str],
    is_paused: Callable[[str], bool],
) -> list[tuple[str, str]] | None:
    """``need`` distinct agents neither on a call nor paused, or None. A few random draws find them on a
    floor with free operators (a scan of thousands of agents per call would make the simulator, not the
    workstation, the slow part of a benchmark); a crowded floor gets the full scan."""
    if need == 0:
        return []
    chosen: list[tuple[str, str]] = []
    for _ in range(8 * need):
        a = pool[rng.randrange(len(pool))]
        if a[0] not in busy and a not in chosen and not is_paused(a[0]):
            chosen.append(a)
            if len(chosen) == need:
                return chosen
    free = [a for a in pool if a[0] not in busy and not is_paused(a[0])]
    return rng.sample(free, need) if len(free) >= need else None


def _releaser(busy: set[str], agents: list[str]) -> Callable[[asyncio.Task[None]], None]:
    def release(_task: asyncio.Task[None]) -> None:
        busy.difference_update(agents)

    return release


class AmiSimulator:
    """A stand-in for Asterisk's manager interface over real TCP."""

    def __init__(
        self,
        username: str = "ccw",
        secret: str = "secret",
        traces_dir: Path | None = None,
        auth_fail_delay: float = 1.0,
        write: str = "all",
    ) -> None:
        """``write``: the manager.conf ``write =`` classes of the user (``all``, ``system,call,…``)."""
        self.username, self.secret = username, secret
        self.write = parse_classes(write)
        self.auth_fail_delay = auth_fail_delay  # Asterisk sleeps 1 s before refusing a login
        self.traces_dir = traces_dir
        self.state = SimState()
        self.sessions: set[Session] = set()
        self.pops: dict[tuple[str, str], tuple[float, float]] = {}  # (call_id, agent) -> (monotonic, epoch)
        self.originates: list[dict[str, str]] = []
        self.logins = 0
        self.silent = False  # True: actions get no answer (a hung Asterisk behind an open socket)
        self.refused_actions: set[str] = set()  # lower-case action names answered "Permission denied"
        self.shutting_down = False  # True: every action answers "Asterisk is shutting down"
        self.pause_actions: list[dict[str, str]] = []  # QueuePause actions received (lower-case keys)
        self.busy_agents: set[str] = set()  # agents on a generated call now (shared by run_calls runs)
        self.generated: deque[tuple[str, CallScript]] = deque(
            maxlen=10_000
        )  # (scenario, script) of run_calls calls
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = time.time()
        self.host, self.port = "127.0.0.1", 0

    # ------------------------------------------------------------------ server
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen; returns the bound port (``port=0`` lets the OS choose)."""
        self._server = await asyncio.start_server(self._serve, host, port)
        self.host, self.port = host, self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
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

    def restart(self, *, forget_pauses: bool = True) -> None:
        """An Asterisk restart: ``Event: Shutdown`` to every client, sockets closed, every call gone and,
        as app_queue does for static members, every member back unpaused (``forget_pauses``)."""
        self.shutdown_notice()
        for t in list(self._tasks):
            t.cancel()
        self.drop_connections()
        self.state.channels.clear()
        self.state.started.clear()
        self.state.entries.clear()
        self.busy_agents.clear()
        if forget_pauses:
            for m in self.state.members.values():
                m.fields.update(Paused="0", PausedReason="", Status="1", InCall="0")
        self._started = time.time()

    async def restart_for(self, seconds: float) -> None:
        """An Asterisk restart that takes ``seconds``: ``restart()``, and the port refuses connections
        until the PBX is back (on the same port)."""
        self.restart()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await asyncio.sleep(seconds)
        self._server = await asyncio.start_server(self._serve, self.host, self.port)

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

    async def play_script(self, script: CallScript, speed: float = 1.0) -> None:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for idx, (off, frame) in enumerate(script.steps):
            delay = t0 + off / speed - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.broadcast(frame, script.pop_keys.get(idx))

    def make_call(
        self,
        name: str,
        caller: str | None = None,
        callers: Sequence[str] | None = None,
        agents: Sequence[AgentSpec] = (),
    ) -> CallScript:
        """A fresh instance of a scenario; its agents become members of the simulated queue."""
        tpl = template(name, self.traces_dir)
        numbers = list(callers or ([caller] if caller else []))
        numbers += list(tpl.callers[len(numbers) :])
        agent_list = _agents(agents)
        if name == "ringtwice":  # one member rung on both rounds of the linear queue
            agent_list = agent_list[:1] * 2
        for iface, member in agent_list:
            self.state.add_member("support", iface, member)
        return instantiate(tpl, numbers, agent_list)

    async def play(
        self,
        name: str,
        caller: str | None = None,
        *,
        callers: Sequence[str] | None = None,
        agents: Sequence[AgentSpec] = (),
        speed: float = 1.0,
    ) -> CallScript:
        """Play one scenario to the end; returns the script (its call ids and pop keys)."""
        script = self.make_call(name, caller, callers, agents)
        await self.play_script(script, speed)
        return script

    def start_call(self, script: CallScript, speed: float = 1.0) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self.play_script(script, speed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def replay_file(self, path: str | Path, speed: float | None = None) -> None:
        """Send a capture's events byte for byte (original Timestamps); ``speed=None`` = no pauses."""
        _, frames = read_trace(path)
        loop = asyncio.get_running_loop()
        t0, first = loop.time(), None
        for n, frame in enumerate(frames):
            if not get(frame, "Event") or get(frame, "Event") in LOGIN_NOISE:
                continue
            ts = get(frame, "Timestamp")
            if speed and ts:
                first = float(ts) if first is None else first
                delay = t0 + (float(ts) - first) / speed - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            elif n % 50 == 0:
                await asyncio.sleep(0)
            self.broadcast(frame, stamp=False)

    async def run_calls(
        self,
        rate_per_s: float,
        callers: Sequence[str],
        agents: Sequence[AgentSpec],
        *,
        count: int | None = None,
        duration_s: float | None = None,
        speed: float = 1.0,
        mix: dict[str, float] | None = None,
        seed: int | None = None,
        wait: bool = True,
    ) -> int:
        """Start calls at ``rate_per_s`` with random callers and free agents until ``count`` calls or
        ``duration_s`` seconds (forever when neither); returns the number of calls started."""
        if rate_per_s <= 0 or not callers:
            raise ValueError("run_calls needs a positive rate and at least one caller")
        rng = random.Random(seed)
        mix = mix or DEFAULT_MIX
        names, weights = list(mix), list(mix.values())
        pool = _agents(agents)
        busy = self.busy_agents
        loop = asyncio.get_running_loop()
        start = next_t = loop.time()
        started = 0
        tasks: list[asyncio.Task[None]] = []
        while (count is None or started < count) and (duration_s is None or loop.time() - start < duration_s):
            name = rng.choices(names, weights)[0]
            chosen = _pick_free(rng, pool, AGENTS_NEEDED.get(name, 1), busy, self.is_paused)
            if chosen is not None:
                busy.update(a for a, _ in chosen)
                script = self.make_call(
                    name, callers=rng.sample(list(callers), min(2, len(callers))), agents=chosen
                )
                self.generated.append((name, script))
                task = self.start_call(script, speed)
                task.add_done_callback(_releaser(busy, [a for a, _ in chosen]))
                if wait:
                    tasks.append(task)
                started += 1
            else:
                log.debug("no free simulated operator for a %s call; skipped", name)
            next_t += 1.0 / rate_per_s
            await asyncio.sleep(max(0.0, next_t - loop.time()))
        if wait and tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        return started
