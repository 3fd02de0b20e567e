"""Screen-pop latency: AMI event leaving the simulator → ``call.offered`` arriving on the operator's websocket.

Starts the real app (``workstation serve``) in separate processes with telephony pointed at an
``AmiSimulator`` running here over TCP, creates N operators (each with its own ``PJSIP/<ext>`` interface),
connects one signed-in websocket per operator, plays calls from the real Asterisk traces at R per second
(answered, ring-no-answer, ring-all, direct, abandoned) and measures every pop. Prints one JSON object
per line, one per mode:

* ``embedded``: one server process, SQLite workstation DB, in-process bus and cache;
* ``redis``: two server processes behind Redis pub/sub (one AMI consumer by the Redis leader lock),
  PostgreSQL workstation DB; the operators' websockets are split over both processes.

Billing is a generated demo billing (SQLite, 5,000 subscribers); callers are its numbers, so every pop
carries a real card. Sessions are minted with the app's signing key (the websocket still checks them
against the DB), so 500 sign-ins do not spend a minute in argon2.

    python benchmarks/screen_pop.py            # 500 operators, 20 calls/s, 20 s of calls per mode
    python benchmarks/screen_pop.py --quick    # same load, shorter (< 30 s)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from screen_pop_setup import (  # noqa: E402
    Server,
    add_operators,
    create_pg_database,
    drop_pg_database,
    make_billing,
    sample_rss,
    session_cookie,
    start_server,
    wait_healthy,
    wait_idle,
)

from telephony.simulator import AmiSimulator  # noqa: E402

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMI_USER = "bench"


T0 = time.monotonic()


def log(text: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f}s] {text}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


# ---------------------------------------------------------------------------------------------- clients
@dataclass
class Stats:
    arrivals: dict[tuple[str, str], float] = field(default_factory=dict)  # (call id, agent) -> monotonic
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    ready: int = 0
    errors: int = 0
    messages: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    published: dict[tuple[str, str], float] = field(default_factory=dict)  # (call id, user id) -> monotonic


async def operator_client(port: int, cookie: str, agent: str, stats: Stats, stop: asyncio.Event) -> None:
    url = f"ws://127.0.0.1:{port}/ws"
    try:
        async with websockets.connect(
            url, additional_headers={"Cookie": f"ws_session={cookie}"}, max_size=2**22
        ) as ws:
            async for frame in ws:
                now = time.monotonic()
                raw = frame if isinstance(frame, str) else frame.decode()
                stats.messages += 1
                if '"call.offered"' not in raw:
                    if '"hello"' in raw:
                        stats.ready += 1
                    else:
                        stats.kinds[raw[:40]] += 1
                    continue
                msg = json.loads(raw)
                key = (msg["call"]["id"], agent)
                stats.counts[key] += 1
                stats.arrivals.setdefault(key, now)
    except asyncio.CancelledError:
        raise
    except Exception:
        stats.errors += 1


async def bus_listener(prefix: str, stats: Stats) -> None:
    """Redis mode diagnostic: when the pop was published on the bus (splits server time from delivery)."""
    import redis.asyncio as aioredis

    r = aioredis.from_url(REDIS_URL, decode_responses=True)
    pubsub = r.pubsub()
    await pubsub.psubscribe(f"{prefix}:bus:user.*")
    try:
        async for item in pubsub.listen():
            if item.get("type") == "pmessage" and '"call.offered"' in item["data"]:
                now = time.monotonic()
                msg = json.loads(item["data"])
                stats.published.setdefault((msg["call"]["id"], item["channel"].rsplit(".", 1)[1]), now)
    finally:
        await pubsub.aclose()
        await r.aclose()


# ---------------------------------------------------------------------------------------------- one mode
class Mode:
    """One deployment under test: its simulator, server process(es), operators and their websockets."""

    def __init__(self, name: str, args: argparse.Namespace, tmp: Path, billing: Path) -> None:
        self.name, self.args, self.tmp, self.billing = name, args, tmp, billing
        self.secret_key = secrets.token_urlsafe(32)
        self.ami_secret = secrets.token_urlsafe(16)
        self.sim = AmiSimulator(AMI_USER, self.ami_secret)
        self.prefix = f"bench{uuid.uuid4().hex[:8]}"
        self.pg_url: str | None = None
        self.servers: list[Server] = []
        self.operators: list[tuple[int, str, str]] = []
        self.stats = Stats()
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    async def setup(self) -> None:
        sim_port = await self.sim.start("127.0.0.1", 0)
        data_dir = self.tmp / f"data-{self.name}"
        data_dir.mkdir(exist_ok=True)
        if self.name == "redis":
            self.pg_url = await asyncio.to_thread(create_pg_database)
        db_url = self.pg_url or f"sqlite:///{self.tmp / 'embedded.db'}"
        self.operators = await asyncio.to_thread(add_operators, db_url, self.args.operators)
        log(f"{self.name}: database migrated, {len(self.operators)} operators")
        env = dict(os.environ)
        env.update(
            WORKSTATION_DATA_DIR=str(data_dir),
            WORKSTATION_DATABASE_URL=db_url,
            WORKSTATION_BILLING_URL=f"sqlite:///{self.billing}",
            WORKSTATION_AMI_URL=f"ami://{AMI_USER}@127.0.0.1:{sim_port}",
            WORKSTATION_AMI_SECRET=self.ami_secret,
            WORKSTATION_SECRET_KEY=self.secret_key,
            WORKSTATION_REDIS_PREFIX=self.prefix,
            WORKSTATION_BUS_URL=REDIS_URL if self.name == "redis" else "memory://",
            WORKSTATION_CACHE_URL=REDIS_URL if self.name == "redis" else "memory://",
            PYTHONPATH=str(ROOT),
        )
        count = 2 if self.name == "redis" else 1
        if self.args.app == "core":  # nothing heavy at start-up: start them together
            self.servers = [start_server(env, self.tmp, f"{self.name}{i}", "core") for i in range(count)]
            await asyncio.gather(*(wait_healthy(s) for s in self.servers))
        else:  # one after the other, so first start-up work (the topic model) is not raced
            for i in range(count):
                self.servers.append(start_server(env, self.tmp, f"{self.name}{i}", "full"))
                await wait_healthy(self.servers[-1])
                await wait_idle(self.servers[-1:])
        await self.sim.wait_for_clients(1, timeout=30)
        log(f"{self.name}: {len(self.servers)} server(s) up, AMI consumer logged in")
        if self.name == "redis":
            self.tasks.append(asyncio.create_task(bus_listener(self.prefix, self.stats)))
        for i, (_uid, iface, token) in enumerate(self.operators):
            port = self.servers[i % len(self.servers)].port
            cookie = session_cookie(self.secret_key, token)
            self.tasks.append(
                asyncio.create_task(operator_client(port, cookie, iface, self.stats, self.stop))
            )
            if i % 50 == 49:
                await asyncio.sleep(0.05)
        deadline = time.monotonic() + 60
        while self.stats.ready + self.stats.errors < len(self.operators) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        log(f"{self.name}: {self.stats.ready} websockets signed in")

    async def measure(self, callers: list[str]) -> dict[str, Any]:
        args, sim, stats, servers = self.args, self.sim, self.stats, self.servers
        await wait_idle(servers)
        agents = [(iface, f"Bench {i}") for i, (_, iface, _) in enumerate(self.operators)]
        sampler = asyncio.create_task(sample_rss(servers, self.stop))
        # warm-up (not measured): code paths, billing connections
        await sim.run_calls(args.rate, callers, agents, duration_s=0.5, wait=False, seed=1)
        await asyncio.sleep(1.0)
        sim.pops.clear()
        stats.arrivals.clear()
        stats.counts.clear()
        stats.published.clear()
        cpu0 = [psutil.Process(s.proc.pid).cpu_times() for s in servers]
        me0 = sum(psutil.Process().cpu_times()[:2])
        t_run = time.monotonic()
        log(f"{self.name}: measuring {args.duration:.0f} s of calls at {args.rate}/s")
        started = await sim.run_calls(
            args.rate, callers, agents, duration_s=args.duration, wait=False, seed=2
        )
        sent = dict(sim.pops)
        drain_until = time.monotonic() + 5.0
        while time.monotonic() < drain_until and any(k not in stats.arrivals for k in sent):
            await asyncio.sleep(0.05)
        cpu = [
            round(
                100
                * (sum(psutil.Process(s.proc.pid).cpu_times()[:2]) - sum(c[:2]))
                / (time.monotonic() - t_run)
            )
            for s, c in zip(servers, cpu0, strict=True)
        ]
        bench_cpu = round(100 * (sum(psutil.Process().cpu_times()[:2]) - me0) / (time.monotonic() - t_run))
        sampler.cancel()
        latencies = [(stats.arrivals[k] - v[0]) * 1000 for k, v in sent.items() if k in stats.arrivals]
        uid_of = {iface: str(uid) for uid, iface, _ in self.operators}
        to_bus = [
            (stats.published[(cid, uid_of[agent])] - v[0]) * 1000
            for (cid, agent), v in sent.items()
            if (cid, uid_of[agent]) in stats.published
        ]
        result: dict[str, Any] = {
            "mode": self.name,
            "app": args.app,
            "operators": len(self.operators),
            "connected": stats.ready,
            "server_processes": len(servers),
            "calls_per_s": args.rate,
            "seconds": args.duration,
            "calls": started,
            "pops": len(sent),
            "lost_pops": sum(1 for k in sent if k not in stats.arrivals),
            "duplicate_pops": sum(c - 1 for c in stats.counts.values() if c > 1),
            "p50_ms": round(percentile(latencies, 50), 2),
            "p95_ms": round(percentile(latencies, 95), 2),
            "p99_ms": round(percentile(latencies, 99), 2),
            "max_ms": round(max(latencies, default=0.0), 2),
            "mean_ms": round(statistics.fmean(latencies), 2) if latencies else 0.0,
        }
        if to_bus:
            result["p50_to_bus_ms"] = round(percentile(to_bus, 50), 2)
            result["p99_to_bus_ms"] = round(percentile(to_bus, 99), 2)
        result["server_cpu_pct"] = cpu
        result["bench_cpu_pct"] = bench_cpu  # simulator + websocket clients (this process)
        result["ws_messages"] = stats.messages
        if os.environ.get("SCREEN_POP_KEEP"):
            log(f"message kinds: {stats.kinds.most_common(8)}")
        result["load_avg_1m"] = round(os.getloadavg()[0], 2)
        result["max_rss_mb"] = round(max((s.max_rss for s in servers), default=0.0), 1)
        return result

    async def teardown(self) -> None:
        self.stop.set()
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


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="screen_pop_") as d:
        tmp = Path(os.environ.get("SCREEN_POP_KEEP") or d)
        tmp.mkdir(parents=True, exist_ok=True)
        billing, callers = make_billing(tmp, 2000)
        log("demo billing ready")
        modes = [Mode(name, args, tmp, billing) for name in args.modes]
        try:
            # every deployment starts at once (start-up is not measured), then each is measured alone
            await asyncio.gather(*(m.setup() for m in modes))
            for m in modes:
                print(json.dumps(await m.measure(callers)), flush=True)
        finally:
            for m in modes:
                await m.teardown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operators", type=int, default=500)
    parser.add_argument("--rate", type=float, default=20.0, help="calls per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of calls per mode")
    parser.add_argument("--modes", nargs="+", default=["embedded", "redis"], choices=["embedded", "redis"])
    parser.add_argument("--app", choices=["full", "core"], help="full app or screen-pop core (default: full)")
    parser.add_argument("--quick", action="store_true", help="a short run: 4 s of calls, core app")
    args = parser.parse_args()
    if args.quick:
        args.duration = min(args.duration, 4.0)
        args.app = args.app or "core"
    args.app = args.app or "full"
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
