"""The live board's latency for ``benchmarks/kpis.py``: two server processes, the AMI simulator over TCP, 500
operators and 50 supervisors on websockets (the supervisors in a client process of their own, started as
``python benchmarks/kpis_board.py --supervisor-clients SPEC``); AMI event → board frame."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from screen_pop_clients import REDIS_URL, Stats, operator_client, percentile  # noqa: E402
from screen_pop_deploy import log  # noqa: E402
from screen_pop_setup import (  # noqa: E402
    add_operators,
    create_pg_database,
    drop_pg_database,
    make_billing,
    start_server,
    wait_healthy,
)

from telephony.protocol import get  # noqa: E402
from telephony.simulator import AmiSimulator  # noqa: E402
from tests.support.session_cookie import session_cookie  # noqa: E402

AMI_USER = "bench"
KPI_APP = """
import sys, uvicorn
from workstation.app import create_app
from workstation.bootstrap import bootstrap
from workstation.kpis import feature as kpis
container = bootstrap(features=(kpis,))
uvicorn.run(create_app(container), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def add_supervisors(db_url: str, n: int) -> list[tuple[int, str]]:
    """N supervisors, each with a server-side session as a sign-in opens; returns (user id, token)."""
    from sqlalchemy import insert, select

    from workstation.auth import hash_password
    from workstation.db import Database
    from workstation.models import User
    from workstation.sessions import open_sessions

    db = Database(db_url)
    pw = hash_password(secrets.token_urlsafe(12))
    rows = [
        dict(
            username=f"sup{i}",
            display_name=f"Sup {i}",
            password_hash=pw,
            role="supervisor",
            skills=[],
            language="ru",
            active=True,
            presence="offline",
        )
        for i in range(n)
    ]
    with db.session() as s:
        s.execute(insert(User), rows)
    with db.session() as s:
        uids = list(s.scalars(select(User.id).where(User.role == "supervisor")))
    tokens = open_sessions(db, uids, 12 * 3600)
    db.dispose()
    return list(zip(uids, tokens, strict=True))


async def supervisor_client(
    url: str, cookie: str, frames: list[tuple[float, int, float]], ready: list[int]
) -> None:
    """Records (arrival epoch, today's offered count, the server's snapshot time) of every board frame; like
    the page, reconnects when the server closes a socket too slow to keep up (every frame is the whole
    board, so the next one after a reconnect is complete)."""
    first = True
    while True:
        try:
            async with websockets.connect(
                url, additional_headers={"Cookie": f"ws_session={cookie}"}, max_size=2**24
            ) as ws:
                async for raw in ws:
                    now = time.time()
                    text = raw if isinstance(raw, str) else raw.decode()
                    if '"hello"' in text[:40]:
                        if first:
                            ready.append(1)
                            first = False
                        continue
                    if '"kpis.board"' not in text[:40]:
                        continue
                    msg = json.loads(text)
                    frames.append((now, msg["figures"]["today"]["*"]["offered"], msg["at"]))
        except (OSError, websockets.ConnectionClosed):
            pass
        ready.append(0)  # a reconnect (counted apart from the first hello)
        await asyncio.sleep(0.25)


async def supervisors_process(spec_path: Path) -> None:
    """``--supervisor-clients SPEC``: the supervisors' websockets in a process of their own (the 500
    operators' sockets and the simulator must not starve them); writes ``progress`` (connected, the least
    offered count shown) every 0.2 s and every frame to ``frames`` once ``stop`` exists."""
    spec = json.loads(spec_path.read_text())  # noqa: ASYNC240 (once, before anything is measured)
    work = spec_path.parent
    frames: list[list[tuple[float, int, float]]] = [[] for _ in spec["clients"]]
    ready: list[int] = []
    tasks = [
        asyncio.create_task(supervisor_client(url, cookie, frames[i], ready))
        for i, (url, cookie) in enumerate(spec["clients"])
    ]
    while not (work / "stop").exists():
        shown = min((f[-1][1] for f in frames if f), default=-1) if all(frames) else -1
        (work / "progress.tmp").write_text(
            json.dumps({"ready": sum(ready), "offered": shown, "reconnects": ready.count(0)})
        )
        (work / "progress.tmp").replace(work / "progress")
        await asyncio.sleep(0.2)
    for t in tasks:
        t.cancel()
    (work / "frames").write_text(json.dumps(frames))


def read_progress(work: Path) -> dict[str, int]:
    try:
        return json.loads((work / "progress").read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return {"ready": 0, "offered": -1, "reconnects": 0}


async def board_latency(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    billing, callers = make_billing(tmp, 2000)
    secret_key, ami_secret, prefix = (
        secrets.token_urlsafe(32),
        secrets.token_urlsafe(16),
        f"bkpi{uuid.uuid4().hex[:8]}",
    )
    sim = AmiSimulator(AMI_USER, ami_secret)
    sim_port = await sim.start("127.0.0.1", 0)
    pg_url = await asyncio.to_thread(create_pg_database)
    servers: list[Any] = []
    tasks: list[asyncio.Task[None]] = []
    child: subprocess.Popen[bytes] | None = None
    try:
        operators = await asyncio.to_thread(add_operators, pg_url, args.operators)
        supervisors = await asyncio.to_thread(add_supervisors, pg_url, args.supervisors)
        env = dict(os.environ)
        env.update(
            WORKSTATION_DATA_DIR=str(tmp / "data"),
            WORKSTATION_DATABASE_URL=pg_url,
            WORKSTATION_BILLING_URL=f"sqlite:///{billing}",
            WORKSTATION_AMI_URL=f"ami://{AMI_USER}@127.0.0.1:{sim_port}",
            WORKSTATION_AMI_SECRET=ami_secret,
            WORKSTATION_SECRET_KEY=secret_key,
            WORKSTATION_REDIS_PREFIX=prefix,
            WORKSTATION_BUS_URL=REDIS_URL,
            WORKSTATION_CACHE_URL=REDIS_URL,
            WORKSTATION_KPI_TIMEZONE="UTC",
            PYTHONPATH=str(ROOT),
        )
        (tmp / "data").mkdir(exist_ok=True)
        servers = [start_server(env, tmp, f"kpis{i}", KPI_APP) for i in range(2)]
        await asyncio.gather(*(wait_healthy(s) for s in servers))
        await sim.wait_for_clients(1, deadline_s=30)
        stats = Stats()
        for i, (_uid, iface, token) in enumerate(operators):
            url, headers = (
                f"ws://127.0.0.1:{servers[i % 2].port}/ws",
                {"Cookie": f"ws_session={session_cookie(secret_key, token)}"},
            )
            tasks.append(asyncio.create_task(operator_client(url, headers, iface, stats)))
        work = tmp / "supervisors"
        work.mkdir()
        clients = [
            (f"ws://127.0.0.1:{servers[i % 2].port}/ws", session_cookie(secret_key, token))
            for i, (uid, token) in enumerate(supervisors)
        ]
        (work / "spec").write_text(json.dumps({"clients": clients}))
        child = subprocess.Popen(  # noqa: ASYNC220 (started once, before the measured window)
            [sys.executable, __file__, "--supervisor-clients", str(work / "spec")], cwd=ROOT, env=env
        )
        deadline = time.monotonic() + 90
        while (
            stats.ready < len(operators) or read_progress(work)["ready"] < len(supervisors)
        ) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        log(f"board: {stats.ready} operators and {read_progress(work)['ready']} supervisors connected")
        joins: list[float] = []
        original = sim.broadcast

        def recording(frame: Any, pop_key: Any = None, stamp: bool = True) -> None:
            if get(frame, "Event") == "QueueCallerJoin":
                joins.append(time.time())
            original(frame, pop_key, stamp)

        sim.broadcast = recording  # type: ignore[method-assign]
        agents = [(iface, f"Bench {i}") for i, (_, iface, _) in enumerate(operators)]
        await asyncio.sleep(2.0)
        base = max(0, read_progress(work)["offered"])
        sim.pops.clear()
        log(f"board: {args.duration:.0f} s of calls at {args.rate}/s")
        started = await sim.run_calls(args.rate, callers, agents, duration_s=args.duration, seed=3, wait=True)
        # every board catches up with every call (or 60 s pass): exactness, apart from the lag
        deadline = time.monotonic() + 60
        while read_progress(work)["offered"] - base < len(joins) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        (work / "stop").touch()
        await asyncio.to_thread(child.wait, 30)
        frames: list[list[tuple[float, int, float]]] = json.loads((work / "frames").read_text())
        latencies: list[float] = []
        to_snapshot: list[float] = []
        missed = 0
        for sup_frames in frames:
            for k, sent in enumerate(joins, start=1):
                frame = next((f for f in sup_frames if f[1] - base >= k and f[0] >= sent - 1), None)
                if frame is None:
                    missed += 1
                else:
                    latencies.append(max(0.0, frame[0] - sent) * 1000)
                    to_snapshot.append(max(0.0, frame[2] - sent) * 1000)
        # the baseline in the same run: the screen pop (AMI event → call.offered on the operator's socket)
        pops = [(stats.arrivals[k] - v[0]) * 1000 for k, v in sim.pops.items() if k in stats.arrivals]
        final = [f[-1][1] - base for f in frames if f]
        scheduled = sum(
            1 for _, s in sim.generated if any(get(fr, "Event") == "QueueCallerJoin" for _, fr in s.steps)
        )
        return {
            "board_p50_ms": round(percentile(latencies, 50), 1),
            "board_p99_ms": round(percentile(latencies, 99), 1),
            "board_max_ms": round(max(latencies, default=0.0), 1),
            "board_mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
            "board_to_snapshot_p50_ms": round(percentile(to_snapshot, 50), 1),
            "board_to_snapshot_p99_ms": round(percentile(to_snapshot, 99), 1),
            "pop_p50_ms": round(percentile(pops, 50), 1),
            "pop_p99_ms": round(percentile(pops, 99), 1),
            "board_frames_missed": missed,
            "board_calls": started,
            "board_queued_calls": len(joins),
            "board_offered_error": max((abs(x - scheduled) for x in final), default=scheduled),
            "supervisors": len(frames),
            "supervisor_reconnects": read_progress(work)["reconnects"],
            "operators": stats.ready,
            "server_processes": len(servers),
            "calls_per_s": args.rate,
        }
    finally:
        if child is not None and child.poll() is None:
            child.terminate()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for s in servers:
            s.proc.terminate()
        for s in servers:
            await asyncio.to_thread(s.proc.wait, 15)
        await sim.stop()
        await asyncio.to_thread(drop_pg_database, pg_url)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--supervisor-clients":
        raise SystemExit("usage: kpis_board.py --supervisor-clients SPEC (started by benchmarks/kpis.py)")
    asyncio.run(supervisors_process(Path(sys.argv[2])))
