"""Contact-center figures: live board latency under load, report times over 1M stored calls, exactness.

1. **Board.** Two server processes (``workstation.kpis`` on, Redis bus, PostgreSQL), the AMI simulator here
   over TCP playing the real Asterisk traces at R calls/s, 500 operators and 50 supervisors connected by
   websocket (split over both processes; the supervisors' sockets in a client process of their own). For the k-th ``QueueCallerJoin`` the simulator sends, the latency
   is the time until each supervisor's board first shows ``today.offered`` ≥ k (AMI event → websocket
   frame); ``board_p50_ms`` / ``board_p99_ms`` over every (call, supervisor).
2. **Reports.** A PostgreSQL database with N stored calls (default 1M over 14 days, five queues with their
   own thresholds, 500 operators, request records, the operators' state log) written with ``COPY``; the
   day report (by hour, per queue), the week report (by day, per queue) and the week report per operator
   (first-contact resolution and occupancy) are timed, cold then warm (median of 3).
3. **Exactness.** ``max_abs_error``: the largest absolute difference between a report figure and the same
   figure computed here with numpy from the generated arrays (never through the app's code), and between
   the board's final counts and the simulator's schedule.

    python benchmarks/kpis.py            # 1M calls, 20 s of calls at 20/s
    python benchmarks/kpis.py --quick    # 200k calls, 6 s of calls (< 4 min)
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
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
    session_cookie,
    start_server,
    wait_healthy,
)

from telephony.protocol import get  # noqa: E402
from telephony.simulator import AmiSimulator  # noqa: E402
from workstation.kpis import rollup  # noqa: E402

AMI_USER = "bench"
QUEUES = {"support": 20, "vip": 10, "billing": 30, "roaming": 20, "sales": 60}
KPI_APP = """
import sys, uvicorn
from workstation.app import create_app
from workstation.bootstrap import bootstrap
from workstation.kpis import feature as kpis
container = bootstrap(features=(kpis,))
uvicorn.run(create_app(container), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""
FIGURES = (
    "offered",
    "answered",
    "answered_in_sl",
    "abandoned",
    "abandoned_short",
    "asa_s",
    "avg_talk_s",
    "avg_acw_s",
    "service_level_pct",
)


# ---------------------------------------------------------------------------------------------- board
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
        for i, (uid, iface, token) in enumerate(operators):
            url, headers = (
                f"ws://127.0.0.1:{servers[i % 2].port}/ws",
                {"Cookie": f"ws_session={session_cookie(secret_key, uid, token)}"},
            )
            tasks.append(asyncio.create_task(operator_client(url, headers, iface, stats)))
        work = tmp / "supervisors"
        work.mkdir()
        clients = [
            (f"ws://127.0.0.1:{servers[i % 2].port}/ws", session_cookie(secret_key, uid, token))
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


# ---------------------------------------------------------------------------------------------- reports
class Generated:
    """N calls as numpy arrays: what is stored, and what the figures must be."""

    def __init__(self, n: int, days: int, operators: list[int], seed: int = 5) -> None:
        rng = np.random.default_rng(seed)
        self.day0 = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
        self.n = n
        self.start = self.day0.timestamp() + np.sort(rng.integers(0, days * 86400, n)).astype(np.float64)
        self.queue = rng.integers(0, len(QUEUES), n)
        self.answered = rng.random(n) < 0.85
        self.wait = np.where(self.answered, rng.integers(0, 90, n), rng.integers(0, 120, n))
        self.talk = rng.integers(10, 900, n)
        self.acw = rng.integers(0, 240, n)
        self.acw_known = self.answered & (rng.random(n) < 0.95)
        self.operator = np.array(operators)[rng.integers(0, len(operators), n)]
        self.outcome = rng.integers(0, 4, n)  # 0 none, 1 resolved, 2 escalated, 3 callback

    def expected(self, lo: float, hi: float, queue: int) -> dict[str, float | None]:
        m = (self.start >= lo) & (self.start < hi) & (self.queue == queue)
        thr = list(QUEUES.values())[queue]
        ans, gone = m & self.answered, m & ~self.answered
        met, long_gone = ans & (self.wait <= thr), gone & (self.wait > 5)
        out: dict[str, float | None] = {
            "offered": int(m.sum()),
            "answered": int(ans.sum()),
            "answered_in_sl": int(met.sum()),
            "abandoned": int(long_gone.sum()),
            "abandoned_short": int((gone & (self.wait <= 5)).sum()),
        }
        base = out["answered"] + out["abandoned"]  # type: ignore[operator]
        out["service_level_pct"] = round(100 * out["answered_in_sl"] / base, 1) if base else None  # type: ignore[operator]
        out["asa_s"] = round(float(self.wait[ans].mean()), 1) if ans.any() else None
        out["avg_talk_s"] = round(float(self.talk[ans].mean()), 1) if ans.any() else None
        acw = m & self.acw_known
        out["avg_acw_s"] = round(float(self.acw[acw].mean()), 1) if acw.any() else None
        return out


def store(db_url: str, g: Generated) -> None:
    """COPY the calls, request records and the operators' state log into PostgreSQL."""
    import psycopg

    names = list(QUEUES)
    iso = lambda t: datetime.fromtimestamp(t, UTC).isoformat()  # noqa: E731
    dsn = db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as con, con.cursor() as cur:
        buf = io.StringIO()
        for i in range(g.n):
            st = g.start[i]
            ans = bool(g.answered[i])
            answered_at = iso(st + g.wait[i]) if ans else "\\N"
            ended = st + g.wait[i] + (g.talk[i] if ans else 0)
            acw = str(int(g.acw[i])) if g.acw_known[i] else "\\N"
            buf.write(
                f"C{i}\t+7916{i % 10_000_000:07d}\t{names[g.queue[i]]}\t{'ended' if ans else 'abandoned'}\t"
                f"{g.operator[i] if ans else chr(92) + 'N'}\t{iso(st)}\t{iso(st)}\t{answered_at}\t{iso(ended)}\t{iso(st)}\t"
                f"{int(g.wait[i])}\t{int(g.talk[i]) if ans else chr(92) + 'N'}\t{acw}\t1\n"
            )
        buf.seek(0)
        with cur.copy(
            "COPY calls (id, caller, queue, state, operator_id, queued_at, started_at, answered_at, ended_at, created_at, wait_s, talk_s, acw_s, offers) FROM STDIN"
        ) as cp:
            while chunk := buf.read(1 << 20):
                cp.write(chunk)
        outcomes = {1: "resolved", 2: "escalated", 3: "callback"}
        buf = io.StringIO()
        for i in np.nonzero(g.answered & (g.outcome > 0))[0]:
            buf.write(
                f"C{i}\t{g.operator[i]}\t\tfinished\t{outcomes[int(g.outcome[i])]}\t[]\tf\tf\t{{}}\t{iso(g.start[i])}\n"
            )
        buf.seek(0)
        with cur.copy(
            "COPY request_records (call_id, operator_id, note, status, outcome, suggestions, abstained, note_truncated, context, created_at) FROM STDIN"
        ) as cp:
            while chunk := buf.read(1 << 20):
                cp.write(chunk)
        buf = io.StringIO()
        for i in np.nonzero(g.answered)[0]:
            a = g.start[i] + g.wait[i]
            e = a + g.talk[i]
            w = e + g.acw[i]
            op = g.operator[i]
            buf.write(
                f"{op}\ton_call\t{iso(a)}\t{iso(e)}\n{op}\twrap_up\t{iso(e)}\t{iso(w)}\n{op}\tready\t{iso(w)}\t{iso(w + 30)}\n"
            )
        buf.seek(0)
        with cur.copy("COPY agent_states (user_id, state, started_at, ended_at) FROM STDIN") as cp:
            while chunk := buf.read(1 << 20):
                cp.write(chunk)
        buf = io.StringIO()
        for (slot, queue, op), values in rolled_up(g).items():
            cells = "\t".join(str(values.get(c, 0)) for c in rollup.COLUMNS)
            buf.write(f"{datetime.fromtimestamp(slot, UTC).isoformat()}\t{queue}\t{op}\t{cells}\n")
        buf.seek(0)
        with cur.copy(
            f"COPY kpi_hourly (slot, queue, operator_id, {', '.join(rollup.COLUMNS)}) FROM STDIN"
        ) as cp:
            while chunk := buf.read(1 << 20):
                cp.write(chunk)
        cur.execute("ANALYZE calls; ANALYZE request_records; ANALYZE agent_states; ANALYZE kpi_hourly")
        con.commit()


def rolled_up(g: Generated) -> dict[tuple[int, str, int], dict[str, float]]:
    """The hourly roll-up as the KPI service builds it (its own functions, one call at a time), summed."""
    from workstation.kpis import formulas as f

    rules = f.Rules(threshold_s=20, queue_thresholds=QUEUES, short_abandon_s=5)
    names = list(QUEUES)
    acc: dict[tuple[int, str, int], dict[str, float]] = {}

    def add(rows: list[list[Any]]) -> None:
        for slot, queue, op, values in rows:
            cell = acc.setdefault((slot, queue, op), {})
            for k, v in values.items():
                cell[k] = cell.get(k, 0) + v

    for i in range(g.n):
        st, ans = float(g.start[i]), bool(g.answered[i])
        fact = f.Fact(f"C{i}", st, names[g.queue[i]], wait_s=int(g.wait[i]), abandoned=not ans)
        if ans:
            fact.operator_id, fact.answered_at = int(g.operator[i]), st + int(g.wait[i])
            fact.talk_s, fact.ended_at = int(g.talk[i]), st + int(g.wait[i]) + int(g.talk[i])
            fact.acw_s = int(g.acw[i]) if g.acw_known[i] else None
            a, e = fact.answered_at, fact.ended_at
            w = e + int(g.acw[i])
            for state, lo, hi in (("on_call", a, e), ("wrap_up", e, w), ("ready", w, w + 30)):
                add(rollup.state_seconds(fact.operator_id, state, lo, hi))
            if g.outcome[i] > 0:
                fcr = {"fcr_total": 1, "fcr_resolved": int(g.outcome[i] == 1)}
                add([[rollup.hour(st), fact.queue, 0, fcr], [rollup.hour(st), "", fact.operator_id, fcr]])
        else:
            fact.ended_at = st + int(g.wait[i])
        add(rollup.deltas(None, rollup.keys_of(fact), rollup.vector(fact, rules)))
    return acc


def overlap(lo: np.ndarray, hi: np.ndarray, a: float, b: float) -> float:
    """Total seconds of the intervals [lo, hi) that fall inside [a, b)."""
    return float(np.clip(np.minimum(hi, b) - np.maximum(lo, a), 0, None).sum())


def timed(fn: Any) -> tuple[float, float, Any]:
    t = time.perf_counter()
    out = fn()
    cold = time.perf_counter() - t
    warm = []
    for _ in range(3):
        t = time.perf_counter()
        out = fn()
        warm.append(time.perf_counter() - t)
    return cold, statistics.median(warm), out


def reports_bench(args: argparse.Namespace) -> dict[str, Any]:
    from workstation.db import Database
    from workstation.kpis import reports
    from workstation.kpis.formulas import Rules
    from workstation.migrate import upgrade

    pg_url = create_pg_database()
    try:
        upgrade(pg_url)
        ops = [uid for uid, _, _ in add_operators(pg_url, 500)]
        g = Generated(args.calls, args.days, ops)
        t = time.perf_counter()
        store(pg_url, g)
        log(f"reports: {args.calls} calls stored in {time.perf_counter() - t:.1f} s")
        db = Database(pg_url)
        rules = Rules(threshold_s=20, queue_thresholds=QUEUES, short_abandon_s=5, abandoned="missed")
        day = g.day0 + timedelta(days=3)
        week = g.day0 + timedelta(days=7)

        def run(a: Any, b: Any, bucket: str, group: str) -> Any:
            return lambda: reports.report(db, rules, a, b, bucket=bucket, group=group, tz="UTC")

        day_cold, day_s, day_rows = timed(run(day, day + timedelta(days=1), "hour", "queue"))
        week_cold, week_s, week_rows = timed(run(week, week + timedelta(days=7), "day", "queue"))
        wop_cold, wop_s, wop_rows = timed(run(week, week + timedelta(days=7), "day", "operator"))

        # the baseline, side by side: the same week counted straight from the call facts
        def recount() -> Any:
            return reports.recount(
                db, rules, week, week + timedelta(days=7), bucket="day", group="queue", tz="UTC"
            )

        rc_cold, rc_s, rc_rows = timed(recount)
        assert [{k: r[k] for k in FIGURES} for r in rc_rows] == [
            {k: r[k] for k in FIGURES} for r in week_rows
        ]
        errors: dict[str, float] = dict.fromkeys(FIGURES, 0.0)
        names = list(QUEUES)
        checked = 0
        for rows, step in ((day_rows, 3600), (week_rows, 86400)):
            for r in rows:
                lo = datetime.strptime(r["bucket"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()
                want = g.expected(lo, lo + step, names.index(r["key"]))
                for k in FIGURES:
                    a, b = r[k], want[k]
                    errors[k] = max(
                        errors[k], abs(a - b) if a is not None and b is not None else float(a != b)
                    )
                checked += 1
        # per operator: calls answered and first-contact resolution, over the whole week
        lo, hi = week.timestamp(), (week + timedelta(days=7)).timestamp()
        in_week = (g.start >= lo) & (g.start < hi) & g.answered
        by_op: dict[int, list[int]] = {}
        for r in wop_rows:
            acc = by_op.setdefault(r["key"], [0, 0])
            acc[0] += r["answered_all"]
        fcr_err = 0.0
        for r in wop_rows:
            b_lo = datetime.strptime(r["bucket"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()
            m = (g.start >= b_lo) & (g.start < b_lo + 86400) & g.answered & (g.operator == r["key"])
            recs = m & (g.outcome > 0)
            want = round(100 * int((m & (g.outcome == 1)).sum()) / int(recs.sum()), 1) if recs.any() else None
            fcr_err = max(
                fcr_err,
                abs(r["fcr_pct"] - want)
                if want is not None and r["fcr_pct"] is not None
                else float(want != r["fcr_pct"]),
            )
        answered_err = max(abs(v[0] - int((in_week & (g.operator == op)).sum())) for op, v in by_op.items())
        errors["fcr_pct"] = fcr_err
        errors["operator_answered"] = float(answered_err)
        # occupancy per operator and day from the states as stored (on call, after-call work, 30 s ready),
        # each state's overlap with the day computed here with numpy
        a = g.start + g.wait
        e = a + g.talk
        w = e + g.acw
        occ_err = 0.0
        for r in wop_rows:
            d_lo = datetime.strptime(r["bucket"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()
            m = g.answered & (g.operator == r["key"])
            busy = float(overlap(a[m], w[m], d_lo, d_lo + 86400))
            ready = float(overlap(w[m], w[m] + 30, d_lo, d_lo + 86400))
            want = round(100 * busy / (busy + ready), 1) if busy + ready else None
            got = r["occupancy_pct"]
            occ_err = max(
                occ_err, abs(got - want) if got is not None and want is not None else float(got != want)
            )
        errors["occupancy_pct"] = occ_err
        db.dispose()
        return {
            "stored_calls": args.calls,
            "stored_days": args.days,
            "day_report_s": round(day_s, 3),
            "day_report_cold_s": round(day_cold, 3),
            "week_report_s": round(week_s, 3),
            "week_report_cold_s": round(week_cold, 3),
            "week_operator_report_s": round(wop_s, 3),
            "week_operator_report_cold_s": round(wop_cold, 3),
            "week_recount_from_facts_s": round(rc_s, 3),
            "week_recount_from_facts_cold_s": round(rc_cold, 3),
            "week_calls": int(((g.start >= lo) & (g.start < hi)).sum()),
            "report_rows_checked": checked,
            "errors": {k: round(v, 3) for k, v in errors.items()},
        }
    finally:
        drop_pg_database(pg_url)


async def main_async(args: argparse.Namespace) -> None:
    board: dict[str, Any] = {}
    rep: dict[str, Any] = {"errors": {}}
    if args.only != "reports":
        with tempfile.TemporaryDirectory(prefix="kpis_bench_") as d:
            board = await board_latency(args, Path(d))
        log(f"board: {json.dumps(board)}")
    if args.only != "board":
        rep = await asyncio.to_thread(reports_bench, args)
    errors = dict(rep.pop("errors"))
    if board:
        errors["board_offered"] = float(board["board_offered_error"])
    out = {
        **board,
        **rep,
        "errors": errors,
        "max_abs_error": max(errors.values()),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(out), flush=True)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--supervisor-clients":
        asyncio.run(supervisors_process(Path(sys.argv[2])))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operators", type=int, default=500)
    parser.add_argument("--supervisors", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20.0, help="calls per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of calls")
    parser.add_argument("--calls", type=int, default=1_000_000, help="stored calls for the reports")
    parser.add_argument("--days", type=int, default=14, help="days the stored calls span")
    parser.add_argument("--quick", action="store_true", help="200k stored calls, 6 s of calls")
    parser.add_argument("--only", choices=["board", "reports"], help="run one part")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.calls = min(args.duration, 6.0), min(args.calls, 200_000)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
