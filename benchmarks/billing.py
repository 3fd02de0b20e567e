"""Billing card latency over ODBC (psqlODBC → PostgreSQL), cold and warm, with raw pyodbc side by side.

    .venv/bin/python benchmarks/billing.py            # 1M subscribers in database bench_billing_1m (made once)
    .venv/bin/python benchmarks/billing.py --quick    # 20k subscribers in a throw-away database, < 60 s

Prints ONE JSON object: cold_p50_ms, cold_p99_ms (caller → card from billing through the cached front),
warm_p50_ms, warm_p99_ms (same callers again, from the in-process cache), lookups_per_s (cold lookups,
32 concurrent), dead_billing_pop_ms (worst pop while billing accepts connections but never answers),
raw_p50_ms / raw_p99_ms (the same four queries issued with raw pyodbc on one connection) and
overhead_ratio (our cold p50 / raw p50).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import psycopg
import pyodbc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from billing_adapter.cache import CachedBilling
from billing_adapter.dbapi import DbApiBilling
from billing_adapter.demo import DemoSpec, msisdn_of
from billing_adapter.demo_load import generate_into_pg
from billing_adapter.lookup import month_range
from billing_adapter.mapping import load_mapping
from billing_adapter.odbc import OdbcBackend
from billing_adapter.resilience import CircuitBreaker
from billing_adapter.stores import MemoryStore

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def odbc_string(db: str, port: int = 5432) -> str:
    return f"DRIVER={{PostgreSQL Unicode}};SERVER=127.0.0.1;PORT={port};DATABASE={db};UID=postgres"


def ensure_database(name: str, subscribers: int, seed: int, fresh: bool) -> None:
    """Create and fill ``name`` unless it already holds this data set (marker table bench_meta)."""
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and not fresh:
            try:
                with psycopg.connect(ADMIN.rsplit("/", 1)[0] + "/" + name) as c:
                    row = c.execute("SELECT subscribers, seed FROM bench_meta").fetchone()
                if row == (subscribers, seed):
                    return
            except psycopg.Error:
                pass
        if exists:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # type: ignore[arg-type]
        admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    url = ADMIN.rsplit("/", 1)[0] + "/" + name
    t0 = time.monotonic()
    generate_into_pg(url, DemoSpec(subscribers=subscribers, seed=seed, chunk=50_000))
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("CREATE TABLE bench_meta (subscribers BIGINT, seed BIGINT)")
        c.execute("INSERT INTO bench_meta VALUES (%s, %s)", (subscribers, seed))
    print(f"generated {subscribers} subscribers in {time.monotonic() - t0:.0f} s", file=sys.stderr)


def pct(values: list[float], p: float) -> float:
    return round(float(np.percentile(np.array(values) * 1000, p)), 3)


def raw_lookup(conn: pyodbc.Connection, mapping, msisdn: str, months: tuple[str, str]) -> None:  # type: ignore[no-untyped-def]
    """The same four statements our cold path runs, straight through pyodbc."""
    cur = conn.cursor()
    q = mapping.query("subscriber_by_msisdn")
    cur.execute(q.sql, msisdn)
    sid = cur.fetchall()[0][0]
    cur.execute(mapping.query("card").sql, sid)
    cur.fetchall()
    cur.execute(mapping.query("services").sql, sid)
    cur.fetchall()
    cur.execute(mapping.query("arpu").sql, sid, months[0], months[1])
    cur.fetchall()
    cur.close()


class BlackHole:
    """A TCP listener that accepts and never answers: a billing that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
                self.conns.append(conn)
            except OSError:
                return

    def close(self) -> None:
        self.running = False
        for c in self.conns:
            c.close()
        self.sock.close()


async def run(db: str, subscribers: int, n_cold: int, n_conc: int, seed: int) -> dict[str, object]:
    mapping = load_mapping("demo")
    rng = np.random.default_rng(seed)
    ids = rng.choice(np.arange(1, subscribers + 1), size=2 * n_cold + n_conc, replace=False)
    numbers = [str(n) for n in msisdn_of(ids)]
    ours, raws, conc = numbers[:n_cold], numbers[n_cold : 2 * n_cold], numbers[2 * n_cold :]

    source = DbApiBilling(OdbcBackend(odbc_string(db), 2.0), mapping, pool_size=8, timeout_s=2.0)
    front = CachedBilling(source, MemoryStore())
    raw_conn = pyodbc.connect(odbc_string(db), autocommit=True)
    months = month_range(__import__("datetime").date.today(), 3, full_only=True)
    # warm-up: connections, plans
    for n in numbers[:1]:
        await front.lookup_caller(n)
        raw_lookup(raw_conn, mapping, n, months)
    await front.store.close()  # empty the cache again: measured lookups start cold

    # interleaved so machine noise hits all three alike; warm = the same caller again, well within the
    # balance TTL (a pass over all callers afterwards would outlive the 15 s balance freshness)
    cold, raw, warm = [], [], []
    for a, b in zip(ours, raws, strict=True):
        t0 = time.perf_counter()
        found = await front.lookup_caller(a)
        cold.append(time.perf_counter() - t0)
        assert found.state in ("found", "multiple"), found.state
        t0 = time.perf_counter()
        raw_lookup(raw_conn, mapping, b, months)
        raw.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        again = await front.lookup_caller(a)
        warm.append(time.perf_counter() - t0)
        assert again.freshness is not None
        assert again.freshness.source == "cache"
    raw_conn.close()

    queue = list(conc)

    async def worker() -> None:
        while queue:
            await front.lookup_caller(queue.pop())

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(32)))
    lookups_per_s = round(n_conc / (time.perf_counter() - t0), 1)
    await source.close()

    # dead billing: accepts TCP, never answers; half the callers were seen before (stale card), half not
    hole = BlackHole()
    dead_source = DbApiBilling(
        OdbcBackend(odbc_string(db, hole.port), 2.0), mapping, pool_size=8, timeout_s=2.0
    )
    # the cache filled while billing was alive, an hour later: every entry is stale
    dead = CachedBilling(
        dead_source, front.store, breaker=CircuitBreaker(3, 30.0), clock=lambda: time.time() + 3600
    )
    seen = ours[:10]
    pops, states = [], set()
    for n in seen + raws[:10]:
        t0 = time.perf_counter()
        found = await dead.lookup_caller(n)
        pops.append(time.perf_counter() - t0)
        states.add(found.state)
    hole.close()
    await dead.close()
    return {
        "subscribers": subscribers,
        "cold_lookups": n_cold,
        "cold_p50_ms": pct(cold, 50),
        "cold_p99_ms": pct(cold, 99),
        "warm_p50_ms": pct(warm, 50),
        "warm_p99_ms": pct(warm, 99),
        "lookups_per_s": lookups_per_s,
        "concurrency": 32,
        "dead_billing_pop_ms": round(max(pops) * 1000, 1),
        "dead_billing_states": sorted(states),
        "raw_p50_ms": pct(raw, 50),
        "raw_p99_ms": pct(raw, 99),
        "overhead_ratio": round(statistics.median(cold) / statistics.median(raw), 3),
        "breaker_after_dead": dead.breaker.state,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20k subscribers in a throw-away database (< 60 s)")
    ap.add_argument("--subscribers", type=int, default=None)
    ap.add_argument("--fresh", action="store_true", help="regenerate the cached benchmark database")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    subscribers = args.subscribers or (20_000 if args.quick else 1_000_000)
    db = f"bench_billing_q_{uuid.uuid4().hex[:8]}" if args.quick else f"bench_billing_{subscribers // 1000}k"
    if subscribers == 1_000_000 and not args.quick:
        db = "bench_billing_1m"
    t0 = time.monotonic()
    ensure_database(db, subscribers, args.seed, args.fresh or args.quick)
    try:
        n_cold = 800 if args.quick else 3000
        result = asyncio.run(run(db, subscribers, n_cold, 1000 if args.quick else 5000, args.seed))
    finally:
        if args.quick:
            with psycopg.connect(ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')  # type: ignore[arg-type]
    result["mode"] = "quick" if args.quick else "full"
    # 2-core machine shared with other work: the load says how much of the latency is waiting for a CPU
    result["load_avg_1m"] = round(os.getloadavg()[0], 2)
    result["seconds"] = round(time.monotonic() - t0, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
