"""The call writer's cost per batch: how long its thread holds the interpreter, on SQLite and PostgreSQL.

    flock /tmp/bench.lock .venv/bin/python benchmarks/call_writer.py [--calls-per-batch 5] [--batches 200]

The writer's batches run in a thread beside the event loop; what that thread spends in Python (building and
flushing the batch) is time the loop waits for the GIL, and the screen pop's tail with it (issue 16). Each
batch carries the operations the call service and the KPI service journal for ``--calls-per-batch`` whole
calls (queued, offered with the card-pop audit, answered, ended, after-call work, the operator's presence
and state changes, the roll-up), the shape of a 250 ms window at 20 calls/s; every second batch also
re-learns the previous batch's calls (a resync), which must not move their times.

While the batches run, a second thread ticks every 1 ms and records how late each tick wakes: that lateness
is what the event loop would see. Prints ONE JSON object per database: batch_wall_ms and batch_cpu_ms
(p50 / p99 of the writer thread's wall and CPU time per batch), ops_per_batch, tick_late_p99_ms and
tick_late_max_ms, and the calls written (checked against the database).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from tests.conftest import drop_pg_database, make_pg_database
from workstation.auth import create_user
from workstation.calls.outbox import Op
from workstation.calls.writer import CallWriter
from workstation.db import Database
from workstation.kpis.service import register_writer_operations
from workstation.migrate import upgrade
from workstation.models import Call

T0 = 1_796_000_400.0


def call_ops(n: int, uid: int, at: float) -> list[tuple[str, str, dict[str, Any]]]:
    """What the call service and the KPI service journal for one answered call, in their order."""
    cid, caller = f"bench-{n}", f"+7916{n:07d}"
    return [
        ("upsert", cid, {"caller": caller, "queue": "support", "state": "queued", "queued_at": at}),
        ("event", cid, {"type": "queued", "agent": None, "data": {"queue": "support", "position": 1}}),
        ("upsert", cid, {"started_at": at, "caller": caller, "queue": "support"}),
        ("subscriber", cid, {"subscriber_id": str(100 + n % 900)}),
        ("upsert", cid, {"caller": caller, "queue": "support", "state": "ringing", "offered_at": at + 2}),
        ("event", cid, {"type": "offered", "agent": "PJSIP/1001", "data": {"user_id": uid}}),
        (
            "audit",
            "",
            {
                "user_id": uid,
                "action": "card.pop",
                "subject": str(100 + n % 900),
                "details": {"call_id": cid},
            },
        ),
        ("presence", "", {"user_id": uid, "presence": "on_call"}),
        ("agent_state", "", {"user_id": uid, "state": "on_call", "at": at + 3}),
        ("upsert", cid, {"caller": caller, "state": "connected", "answered_at": at + 3, "operator_id": uid}),
        ("event", cid, {"type": "answered", "agent": "PJSIP/1001", "data": {"hold_s": 3, "ring_s": 1}}),
        ("upsert", cid, {"wait_s": 3, "ring_s": 1, "offers": 1}),
        (
            "kpi_delta",
            "",
            {"rows": [[T0, "support", 0, {"offered": 1, "answered": 1}], [T0, "", uid, {"answered": 1}]]},
        ),
        ("upsert", cid, {"state": "wrap_up", "ended_at": at + 63}),
        (
            "event",
            cid,
            {"type": "ended", "agent": "PJSIP/1001", "data": {"talk_s": 60, "hangup_by": "caller"}},
        ),
        ("upsert", cid, {"talk_s": 60}),
        ("presence", "", {"user_id": uid, "presence": "wrap_up"}),
        ("agent_state", "", {"user_id": uid, "state": "wrap_up", "at": at + 63}),
        ("upsert", cid, {"wrapup_done_at": at + 80, "state": "ended", "acw_s": 17}),
        ("presence", "", {"user_id": uid, "presence": "ready"}),
        ("agent_state", "", {"user_id": uid, "state": "ready", "at": at + 80}),
    ]


class Ticker(threading.Thread):
    """Wakes every 1 ms and keeps how late each wake is (the wait a loop would see for the GIL)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.late: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            t = time.perf_counter()
            time.sleep(0.001)
            self.late.append((time.perf_counter() - t - 0.001) * 1000)


def pct(xs: list[float], p: float) -> float:
    return round(statistics.quantiles(xs, n=100, method="inclusive")[p - 1], 3) if len(xs) > 1 else xs[0]


def run(url: str, per_batch: int, batches: int) -> dict[str, Any]:
    db = Database(url)
    uids = [create_user(db, f"op{i}", "secret123", "operator").id for i in range(per_batch)]
    with TemporaryDirectory() as tmp:
        writer = CallWriter(db, journal=Path(tmp) / "j.sqlite")
        register_writer_operations(writer)
        seq = 0
        walls: list[float] = []
        cpus: list[float] = []
        sizes: list[int] = []
        ticker = Ticker()
        ticker.start()
        for b in range(batches):
            ops: list[Op] = []
            calls = [b * per_batch + i for i in range(per_batch)]
            if b % 2 and b > 0:  # a resync learns the previous batch's calls again, later
                calls += [(b - 1) * per_batch + i for i in range(per_batch)]
            for i, n in enumerate(calls):
                for kind, cid, fields in call_ops(n, uids[i % per_batch], T0 + n * 11 + b):
                    seq += 1
                    ops.append(Op(seq, kind, cid, fields))
            sizes.append(len(ops))
            w, c = time.perf_counter(), time.thread_time()
            writer.drainer.apply(ops)
            cpus.append((time.thread_time() - c) * 1000)
            walls.append((time.perf_counter() - w) * 1000)
        ticker.stop.set()
        ticker.join()
    with db.session() as s:
        written = s.scalar(select(func.count()).select_from(Call))
        # a resync must not move a time: each call keeps the queue time of the batch that first wrote it
        moved = sum(
            1
            for cid, queued in s.execute(select(Call.id, Call.queued_at))
            if queued is None or queued.timestamp() != T0 + int(cid[6:]) * 11 + int(cid[6:]) // per_batch
        )
    db.engine.dispose()
    return {
        "ops_per_batch": round(statistics.mean(sizes), 1),
        "batch_wall_p50_ms": pct(walls, 50),
        "batch_wall_p99_ms": pct(walls, 99),
        "batch_cpu_p50_ms": pct(cpus, 50),
        "batch_cpu_p99_ms": pct(cpus, 99),
        "tick_late_p99_ms": pct(ticker.late, 99),
        "tick_late_max_ms": round(max(ticker.late), 3),
        "calls_written": written,
        "calls_with_moved_times": moved,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls-per-batch", type=int, default=5)
    ap.add_argument("--batches", type=int, default=200)
    args = ap.parse_args()
    sys.setswitchinterval(0.001)  # as the server runs (workstation/runtime.py)
    with TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'ws.db'}"
        upgrade(url)
        out = {"db": "sqlite", **run(url, args.calls_per_batch, args.batches)}
        print(json.dumps(out), flush=True)
    url = make_pg_database("bench_writer")
    try:
        upgrade(url)
        out = {"db": "postgresql", **run(url, args.calls_per_batch, args.batches)}
        print(json.dumps(out), flush=True)
    finally:
        Database(url).engine.dispose()
        drop_pg_database(url)


if __name__ == "__main__":
    main()
