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
import base64
import contextlib
import json
import os
import secrets
import socket
import sqlite3
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

import httpx
import psutil
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telephony.simulator import AmiSimulator  # noqa: E402

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMI_USER = "bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


# ---------------------------------------------------------------------------------------------- set-up
def make_billing(tmp: Path, subscribers: int) -> tuple[Path, list[str]]:
    from billing_adapter.demo import DemoSpec, generate_sqlite

    path = tmp / "billing.db"
    generate_sqlite(path, DemoSpec(subscribers=subscribers))
    con = sqlite3.connect(path)
    numbers = [f"+{r[0]}" for r in con.execute("SELECT msisdn FROM msisdns WHERE is_primary = 1 LIMIT 2000")]
    con.close()
    return path, numbers


def create_pg_database() -> str:
    from sqlalchemy import create_engine, text

    name = f"bench_pop_{uuid.uuid4().hex[:8]}"
    eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    eng.dispose()


def add_operators(db_url: str, n: int) -> list[tuple[int, str, str]]:
    """N operators sharing one password hash; returns (user id, interface, hash tail)."""
    from sqlalchemy import insert, select

    from workstation.auth import hash_password
    from workstation.db import Database
    from workstation.migrate import upgrade
    from workstation.models import User

    upgrade(db_url)
    db = Database(db_url)
    pw_hash = hash_password(secrets.token_urlsafe(12))
    rows = [
        dict(
            username=f"bench{i}",
            display_name=f"Bench {i}",
            password_hash=pw_hash,
            role="operator",
            interface=f"PJSIP/{20000 + i}",
            extension=str(20000 + i),
            presence="ready",
            skills=[],
            language="ru",
            active=True,
        )
        for i in range(n)
    ]
    with db.session() as s:
        s.execute(insert(User), rows)
    with db.session() as s:
        out = [
            (r.id, r.interface, r.password_hash[-12:])
            for r in s.execute(select(User.id, User.interface, User.password_hash)).all()
            if r.interface
        ]
    db.dispose()
    return out


def session_cookie(secret_key: str, uid: int, pw_tail: str) -> str:
    """What Starlette's SessionMiddleware would set after a sign-in (same signer, same payload)."""
    from itsdangerous import TimestampSigner

    data = base64.b64encode(json.dumps({"uid": uid, "pw": pw_tail}).encode())
    return TimestampSigner(secret_key).sign(data).decode()


@dataclass
class Server:
    port: int
    proc: subprocess.Popen[bytes]
    max_rss: float = 0.0

    def sample(self) -> None:
        with contextlib.suppress(psutil.Error):
            rss = psutil.Process(self.proc.pid).memory_info().rss / 2**20
            self.max_rss = max(self.max_rss, rss)


def start_server(env: dict[str, str], tmp: Path, name: str) -> Server:
    port = free_port()
    log = (tmp / f"{name}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "workstation.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return Server(port, proc)


async def wait_healthy(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                raise RuntimeError(f"server on {server.port} exited with {server.proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://127.0.0.1:{server.port}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"server on {server.port} not healthy in {timeout}s")


# ---------------------------------------------------------------------------------------------- clients
@dataclass
class Stats:
    arrivals: dict[tuple[str, str], float] = field(default_factory=dict)  # (call id, agent) -> monotonic
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    ready: int = 0
    errors: int = 0


async def operator_client(port: int, cookie: str, agent: str, stats: Stats, stop: asyncio.Event) -> None:
    url = f"ws://127.0.0.1:{port}/ws"
    try:
        async with websockets.connect(
            url, additional_headers={"Cookie": f"ws_session={cookie}"}, max_size=2**22
        ) as ws:
            async for raw in ws:
                now = time.monotonic()
                if '"call.offered"' not in raw:
                    if '"hello"' in raw:
                        stats.ready += 1
                    continue
                msg = json.loads(raw)
                key = (msg["call"]["id"], agent)
                stats.counts[key] += 1
                stats.arrivals.setdefault(key, now)
    except asyncio.CancelledError:
        raise
    except Exception:
        stats.errors += 1


# ---------------------------------------------------------------------------------------------- one run
async def run_mode(
    mode: str, args: argparse.Namespace, tmp: Path, billing: Path, callers: list[str]
) -> dict[str, Any]:
    secret_key = secrets.token_urlsafe(32)
    ami_secret = secrets.token_urlsafe(16)
    sim = AmiSimulator(AMI_USER, ami_secret)
    sim_port = await sim.start("127.0.0.1", 0)
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    data_dir = tmp / mode
    data_dir.mkdir()
    pg_url = create_pg_database() if mode == "redis" else None
    db_url = pg_url or f"sqlite:///{data_dir / 'ws.db'}"
    servers: list[Server] = []
    stop = asyncio.Event()
    try:
        operators = add_operators(db_url, args.operators)
        env = dict(os.environ)
        env.update(
            WORKSTATION_DATA_DIR=str(data_dir),
            WORKSTATION_DATABASE_URL=db_url,
            WORKSTATION_BILLING_URL=f"sqlite:///{billing}",
            WORKSTATION_AMI_URL=f"ami://{AMI_USER}@127.0.0.1:{sim_port}",
            WORKSTATION_AMI_SECRET=ami_secret,
            WORKSTATION_SECRET_KEY=secret_key,
            WORKSTATION_REDIS_PREFIX=prefix,
            WORKSTATION_BUS_URL=REDIS_URL if mode == "redis" else "memory://",
            WORKSTATION_CACHE_URL=REDIS_URL if mode == "redis" else "memory://",
            WORKSTATION_WS_QUEUE_SIZE="256",
            PYTHONPATH=str(ROOT),
        )
        servers = [start_server(env, tmp, f"{mode}{i}") for i in range(2 if mode == "redis" else 1)]
        for s in servers:
            await wait_healthy(s)
        await sim.wait_for_clients(1, timeout=30)

        stats = Stats()
        clients = []
        for i, (uid, iface, tail) in enumerate(operators):
            port = servers[i % len(servers)].port
            cookie = session_cookie(secret_key, uid, tail)
            clients.append(asyncio.create_task(operator_client(port, cookie, iface, stats, stop)))
            if i % 50 == 49:
                await asyncio.sleep(0.05)
        deadline = time.monotonic() + 60
        while stats.ready + stats.errors < len(operators) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

        await wait_idle(servers)
        agents = [(iface, f"Bench {i}") for i, (_, iface, _) in enumerate(operators)]
        sampler = asyncio.create_task(_sample(servers, stop))
        # warm-up (not measured): code paths, billing pool, caches of the first lookups
        await sim.run_calls(args.rate, callers, agents, duration_s=1.0, wait=False, seed=1)
        await asyncio.sleep(1.0)
        sim.pops.clear()
        stats.arrivals.clear()
        stats.counts.clear()

        cpu0 = [psutil.Process(s.proc.pid).cpu_times() for s in servers]
        t_run = time.monotonic()
        started = await sim.run_calls(
            args.rate, callers, agents, duration_s=args.duration, wait=False, seed=2
        )
        sent = dict(sim.pops)
        drain_until = time.monotonic() + 5.0
        while time.monotonic() < drain_until and any(k not in stats.arrivals for k in sent):
            await asyncio.sleep(0.05)
        sent = {k: v for k, v in sim.pops.items() if k in sent}
        latencies = [(stats.arrivals[k] - v[0]) * 1000 for k, v in sent.items() if k in stats.arrivals]
        stop.set()
        for c in clients:
            c.cancel()
        await asyncio.gather(*clients, return_exceptions=True)
        sampler.cancel()
        return {
            "mode": mode,
            "operators": len(operators),
            "connected": stats.ready,
            "server_processes": len(servers),
            "calls_per_s": args.rate,
            "seconds": args.duration,
            "pops": len(sent),
            "lost_pops": sum(1 for k in sent if k not in stats.arrivals),
            "duplicate_pops": sum(c - 1 for c in stats.counts.values() if c > 1),
            "p50_ms": round(percentile(latencies, 50), 2),
            "p95_ms": round(percentile(latencies, 95), 2),
            "p99_ms": round(percentile(latencies, 99), 2),
            "max_ms": round(max(latencies, default=0.0), 2),
            "mean_ms": round(statistics.fmean(latencies), 2) if latencies else 0.0,
            "calls": started,
            "server_cpu_pct": [
                round(
                    100
                    * (sum(psutil.Process(s.proc.pid).cpu_times()[:2]) - sum(c[:2]))
                    / (time.monotonic() - t_run)
                )
                for s, c in zip(servers, cpu0, strict=True)
            ],
            "max_rss_mb": round(max((s.max_rss for s in servers), default=0.0), 1),
        }
    finally:
        stop.set()
        for s in servers:
            s.proc.terminate()
        for s in servers:
            try:
                s.proc.wait(10)
            except subprocess.TimeoutExpired:
                s.proc.kill()
        await sim.stop()
        if pg_url:
            drop_pg_database(pg_url)


async def wait_idle(servers: list[Server], timeout: float = 60.0) -> None:
    """Start-up work (e.g. the first topic model being trained) must not run during the measurement."""
    procs = [psutil.Process(s.proc.pid) for s in servers]
    for p in procs:
        p.cpu_percent(None)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        if all(p.cpu_percent(None) < 15.0 for p in procs):
            return


async def _sample(servers: list[Server], stop: asyncio.Event) -> None:
    while not stop.is_set():
        for s in servers:
            s.sample()
        await asyncio.sleep(0.25)


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="screen_pop_") as d:
        tmp = Path(os.environ.get("SCREEN_POP_KEEP") or d)
        tmp.mkdir(parents=True, exist_ok=True)
        billing, callers = make_billing(tmp, 5000)
        for mode in args.modes:
            result = await run_mode(mode, args, tmp, billing, callers)
            print(json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operators", type=int, default=500)
    parser.add_argument("--rate", type=float, default=20.0, help="calls per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of calls per mode")
    parser.add_argument("--modes", nargs="+", default=["embedded", "redis"], choices=["embedded", "redis"])
    parser.add_argument("--quick", action="store_true", help="a short run (< 30 s in all)")
    args = parser.parse_args()
    if args.quick:
        args.duration = min(args.duration, 4.0)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
