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
status actions answer truthfully mid-call. What the manager interface answers is in
``telephony.sim_manager`` (``SimulatedManager``); this module plays the calls.

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
from pathlib import Path

from telephony.channels import extension_of
from telephony.protocol import get, read_trace
from telephony.scenarios import LOGIN_NOISE, CallScript, instantiate, template
from telephony.sim_manager import SimulatedManager

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


class AmiSimulator(SimulatedManager):
    """A stand-in for Asterisk's manager interface over real TCP, playing calls from real captures."""

    def __init__(
        self,
        username: str = "ccw",
        secret: str = "secret",
        traces_dir: Path | None = None,
        auth_fail_delay: float = 1.0,
        write: str = "all",
    ) -> None:
        """``write``: the manager.conf ``write =`` classes of the user (``all``, ``system,call,…``)."""
        super().__init__(username, secret, auth_fail_delay, write)
        self.traces_dir = traces_dir
        self.busy_agents: set[str] = set()  # agents on a generated call now (shared by run_calls runs)
        self.generated: deque[tuple[str, CallScript]] = deque(
            maxlen=10_000
        )  # (scenario, script) of run_calls calls
        self._tasks: set[asyncio.Task[None]] = set()

    async def stop(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await super().stop()

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

    # ------------------------------------------------------------------ calls
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
