"""One deployment under test for ``screen_pop.py``: its simulator, server process(es), operators and their
websockets, and the measurement of one load point on it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
from screen_pop_browsers import BrowserProcess
from screen_pop_clients import REDIS_URL, Stats, bus_listener, latency_figures
from screen_pop_pressure import WAVE_TABS, start_pressure
from screen_pop_setup import (
    Server,
    add_operators,
    create_pg_database,
    drop_pg_database,
    sample_rss,
    start_server,
    wait_healthy,
    wait_idle,
)

from telephony.simulator import AmiSimulator
from tests.support.session_cookie import session_cookie

AMI_USER = "bench"
T0 = time.monotonic()


def log(text: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f}s] {text}", file=sys.stderr, flush=True)


def redis_server_process() -> psutil.Process | None:
    """The local Redis, to charge its CPU to the point too (redis mode)."""
    for p in psutil.process_iter(["name"]):
        if (p.info["name"] or "").startswith("redis-server"):
            return p
    return None


def cpu_s(proc: psutil.Process | None) -> float:
    if proc is None:
        return 0.0
    with contextlib.suppress(psutil.Error):
        t = proc.cpu_times()
        return float(t.user + t.system)
    return 0.0


MAX_EXTEND_S = 60.0  # a point whose calls mostly find no free operator still reaches --pops


class Deployment:
    """``kind``: ``relay``, ``embedded`` or ``redis`` (``nodes`` processes); ``app``: full, core or relay."""

    def __init__(
        self,
        kind: str,
        nodes: int,
        operators: int,
        app: str,
        tmp: Path,
        billing: Path,
        pressures: tuple[str, ...] = (),
    ) -> None:
        self.kind, self.nodes, self.n_operators, self.app = kind, nodes, operators, app
        self.tmp, self.billing, self.pressures = tmp, billing, pressures
        self.name = f"{kind}{nodes}-{operators}"
        self.secret_key = secrets.token_urlsafe(32)
        self.ami_secret = secrets.token_urlsafe(16)
        self.sim = AmiSimulator(AMI_USER, self.ami_secret)
        self.prefix = f"bench{uuid.uuid4().hex[:8]}"
        self.pg_url: str | None = None
        self.servers: list[Server] = []
        self.operators: list[tuple[int, str, str]] = []  # (user id, interface, session token)
        self.spares: list[tuple[int, str, str]] = []  # operators never rung: the reconnecting floor
        self.others: dict[str, tuple[int, str]] = {}  # user name -> (user id, session token)
        self.stats = Stats()
        self.browsers = BrowserProcess()
        self.warmed = False
        self.tasks: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------------ set-up
    def cookie_headers(self, uid: int, tail: str) -> dict[str, str]:
        return {"Cookie": f"ws_session={session_cookie(self.secret_key, tail)}"}

    def ws_url(self, i: int, iface: str) -> str:
        port = self.servers[i % len(self.servers)].port
        return f"ws://127.0.0.1:{port}/ws" + (f"?agent={iface}" if self.kind == "relay" else "")

    async def _users(self) -> str:
        if self.kind == "relay":
            self.operators = [(i, f"PJSIP/{20000 + i}", "") for i in range(self.n_operators)]
            return ""
        if self.kind == "redis" and not os.environ.get("SCREEN_POP_REDIS_SQLITE"):  # (a diagnostic)
            self.pg_url = await asyncio.to_thread(create_pg_database)
        db_url = self.pg_url or f"sqlite:///{self.tmp / f'{self.name}.db'}"
        # two supervisors: 20 tabs each at most (the per-user limit), 40 frozen tabs in all
        roles = ("supervisor", "supervisor", "analyst") if self.pressures else ()
        spares = WAVE_TABS if "reconnect" in self.pressures else 0
        users = await asyncio.to_thread(add_operators, db_url, self.n_operators + spares, roles)
        floor = [u for u in users if u[1].startswith("PJSIP/")]
        self.operators, self.spares = floor[: self.n_operators], floor[self.n_operators :]
        self.others = {u[1]: (u[0], u[2]) for u in users if not u[1].startswith("PJSIP/")}
        return db_url

    def _env(self, db_url: str, sim_port: int) -> dict[str, str]:
        data_dir = self.tmp / f"data-{self.name}"
        data_dir.mkdir(exist_ok=True)
        env = dict(os.environ)
        bus = REDIS_URL if self.kind == "redis" else "memory://"
        env.update(
            WORKSTATION_DATA_DIR=str(data_dir),
            WORKSTATION_DATABASE_URL=db_url,
            WORKSTATION_BILLING_URL=f"sqlite:///{self.billing}",
            WORKSTATION_AMI_URL=f"ami://{AMI_USER}@127.0.0.1:{sim_port}",
            WORKSTATION_AMI_SECRET=self.ami_secret,
            WORKSTATION_SECRET_KEY=self.secret_key,
            WORKSTATION_PSEUDONYM_KEY=secrets.token_hex(32),
            WORKSTATION_REDIS_PREFIX=self.prefix,
            WORKSTATION_BUS_URL=bus,
            WORKSTATION_CACHE_URL=bus,
            RELAY_AMI_PORT=str(sim_port),
            RELAY_AMI_USER=AMI_USER,
            # SCREEN_POP_SERVER_ROOT: serve from another checkout (a baseline), same benchmark
            PYTHONPATH=os.environ.get("SCREEN_POP_SERVER_ROOT") or str(Path(__file__).resolve().parents[1]),
        )
        return env

    async def setup(self) -> None:
        sim_port = await self.sim.start("127.0.0.1", 0)
        db_url = await self._users()
        env = self._env(db_url, sim_port)
        if self.app != "full":  # nothing heavy at start-up: start them together
            self.servers = [
                start_server(env, self.tmp, f"{self.name}.{i}", self.app) for i in range(self.nodes)
            ]
            await asyncio.gather(*(wait_healthy(s, deadline_s=180) for s in self.servers))
        else:  # one after the other, so first start-up work (the topic model) is not raced
            for i in range(self.nodes):
                self.servers.append(start_server(env, self.tmp, f"{self.name}.{i}", "full"))
                await wait_healthy(self.servers[-1], deadline_s=180)
                await wait_idle(self.servers[-1:])
        await self.sim.wait_for_clients(1, deadline_s=30)
        if self.kind == "redis":
            self.tasks.append(asyncio.create_task(bus_listener(self.prefix, self.stats)))
        clients = [
            (self.ws_url(i, iface), {} if self.kind == "relay" else self.cookie_headers(uid, tail), iface)
            for i, (uid, iface, tail) in enumerate(self.operators)
        ]
        await self.browsers.start(clients)
        self.stats.ready = self.browsers.ready
        log(f"{self.name}: {len(self.servers)} process(es), {self.stats.ready} websockets signed in")
        if self.browsers.failures:
            log(f"{self.name}: connect errors (each retried up to 4 times): {self.browsers.failures}")

    # ------------------------------------------------------------------ one load point
    async def measure(
        self, rate: float, seconds: float, callers: list[str], pressure: str = "", min_pops: int = 0
    ) -> dict[str, Any]:
        sim, stats, servers = self.sim, self.stats, self.servers
        await self._settle()
        await wait_idle(servers)
        agents = [(iface, f"Bench {i}") for i, (_, iface, _) in enumerate(self.operators)]
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_rss(servers, stop))
        loadgen = await start_pressure(pressure, self, stop) if pressure else None
        if (
            not self.warmed or pressure
        ):  # warm-up (not measured): code paths, billing connections, the pressure
            await sim.run_calls(rate, callers, agents, duration_s=1.0, wait=False, seed=1)
            await asyncio.sleep(1.0)
            self.warmed = True
        sim.pops.clear()
        stats.clear()
        await self.browsers.clear()
        paused_at_start = sum(1 for _, iface, _ in self.operators if sim.is_paused(iface))
        procs = [psutil.Process(s.proc.pid) for s in servers]
        others = {  # where else the machine's CPU went during the point
            "simulator_cpu_pct": psutil.Process(),  # simulator, bus listener, pressure clients
            "browsers_cpu_pct": self.browsers.process(),
            "redis_cpu_pct": redis_server_process() if self.kind == "redis" else None,
        }
        cpu0 = [cpu_s(p) for p in procs]
        machine0 = psutil.cpu_times()
        others0 = {k: cpu_s(p) for k, p in others.items()}
        t_run = time.monotonic()
        log(f"{self.name}{'+' + pressure if pressure else ''}: {seconds:.0f} s of calls at {rate:g}/s")
        started = await sim.run_calls(rate, callers, agents, duration_s=seconds, wait=False, seed=2)
        # fewer pops than asked (no free operator, or the simulator behind): go on, up to 3× or 60 s
        extra = 0
        while len(sim.pops) < min_pops and time.monotonic() - t_run < max(3 * seconds, MAX_EXTEND_S):
            extra += 1
            started += await sim.run_calls(rate, callers, agents, duration_s=2.0, wait=False, seed=2 + extra)
        sent = dict(sim.pops)
        wall = time.monotonic() - t_run
        cpu = [round(100 * (cpu_s(p) - c) / wall) for p, c in zip(procs, cpu0, strict=True)]
        machine1 = psutil.cpu_times()
        busy = sum(machine1) - machine1.idle - (sum(machine0) - machine0.idle)
        other_cpu = {
            k: round(100 * (cpu_s(p) - others0[k]) / wall) for k, p in others.items() if p is not None
        }
        drain_until = time.monotonic() + 5.0
        await self.browsers.report(stats)
        while time.monotonic() < drain_until and any(k not in stats.arrivals for k in sent):
            await asyncio.sleep(0.25)
            await self.browsers.report(stats)
        stop.set()
        sampler.cancel()
        pressure_info = await loadgen.finish() if loadgen else {}
        uid_of = {iface: str(uid) for uid, iface, _ in self.operators}
        line: dict[str, Any] = {
            "mode": self.kind + (f"+{pressure}" if pressure else ""),
            "app": self.app,
            "operators": len(self.operators),
            "connected": stats.ready,
            "server_processes": len(servers),
            "calls_per_s": rate,
            "seconds": round(wall, 1),
            "calls": started,
            "calls_per_s_started": round(
                started / wall, 1
            ),  # below calls_per_s: no free operator, or the simulator fell behind
            "operators_paused_at_start": paused_at_start,  # in after-call work or a break: not rung
            **latency_figures(sent, stats, uid_of),
            "server_cpu_pct": cpu,
            "server_cpu_total_pct": sum(cpu),
            # CPU time the servers spent per call: what the load average does not change much
            "server_cpu_ms_per_call": round(10 * sum(cpu) * wall / max(started, 1), 2),
            **other_cpu,
            # everything the machine ran meanwhile, of 100 % per core (other people's work included)
            "machine_cpu_pct": round(100 * busy / wall),
            **pressure_info,
            "load_avg_1m": round(os.getloadavg()[0], 2),
            "max_rss_mb": round(max((s.max_rss for s in servers), default=0.0), 1),
        }
        return line

    async def _settle(self, deadline_s: float = 6.0) -> None:
        """Let most calls still under way end, so the next point starts with the floor nearly free."""
        deadline = time.monotonic() + deadline_s
        while len(self.sim.busy_agents) > len(self.operators) // 20 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)

    async def teardown(self) -> None:
        await self.browsers.stop()
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for s in self.servers:
            s.proc.terminate()
        for s in self.servers:
            try:
                await asyncio.to_thread(s.proc.wait, 10)
            except subprocess.TimeoutExpired:
                s.proc.kill()
        await self.sim.stop()
        if self.pg_url:
            await asyncio.to_thread(drop_pg_database, self.pg_url)
