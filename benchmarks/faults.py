"""Faults and floods (issue 15): outages of the workstation's own PostgreSQL and Redis during calls, an
unauthenticated memory attack, a sign-in flood during screen pops. Prints one JSON object.

    python benchmarks/faults.py            # 30 s outages at 20 calls/s, 8 × 300 MB bodies, 20 s pop runs
    python benchmarks/faults.py --quick    # 10 s outages, 3 × 300 MB bodies, 10 s pop runs (< 4 min)

``lost_calls``: calls that are missing from ``calls`` or stand there in another state than the one they
ended in (queued → offered → answered → card viewed → ended → after-call work finished; every tenth call
abandoned in the queue), summed over both outages. ``lost_audit_rows``: ``card.pop`` and ``card.view``
rows missing from the audit log. The outages stop and start PostgreSQL / Redis instances of the
benchmark's own (tests/own_services.py); the workstation runs in this process (calls are injected into
its call service, card views and after-call work go over HTTP, as the operator's browser sends them).

``unauth_memory_growth_mb``: peak resident memory of a separate server process minus its baseline while
clients that never signed in post chunked 300 MB bodies and hundreds of small ones in parallel.

``flood_pop_p99_ms``: ring → ``call.offered`` on the operator's websocket (the screen_pop harness: AMI
simulator over TCP, a server process, 100 operators' websockets) at 20 calls/s while 32 clients flood
the sign-in with wrong passwords for random user names from random addresses (a botnet behind the
trusted proxy: the per-user and per-address limits do not stop it, the bounded hashing pool must);
``baseline_pop_p99_ms`` is the same run without the flood, side by side. ``flood.flood_loop_cpu_pct``:
the server's event-loop thread's CPU during the flood run (pops included); ``flood.flood_alone``: the
flood for 5 s with no calls, and ``loop_ms_per_request``, what one flood request cost the event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(
    str(Path(__file__).resolve().parent)
)  # screen_pop_* helpers; after ROOT: benchmarks/classifier.py is no package

import httpx  # noqa: E402
import psutil  # noqa: E402

T0 = time.monotonic()


def log(text: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f}s] {text}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ outages
async def _call_traffic(
    server: Any,
    calls: Any,
    clients: list[httpx.AsyncClient],
    agents: list[str],
    rate: float,
    seconds: float,
    tag: str,
) -> dict[str, str]:
    """Calls at ``rate`` for ``seconds``; returns call id → the state it must end in."""
    from telephony.events import CallAbandoned, CallAnswered, CallEnded, CallOffered, CallQueued

    loop = server.loop

    async def inject(ev: Any) -> None:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(calls.handle(ev), loop))

    expected: dict[str, str] = {}
    free = list(range(len(agents)))
    tasks: list[asyncio.Task[None]] = []
    failures: dict[str, int] = {}

    async def one(n: int) -> None:
        cid = f"{tag}-{n}"
        t = time.time()
        await inject(CallQueued(cid, t, caller="79160000001", queue="support"))
        if n % 10 == 9 or not free:
            await asyncio.sleep(0.3)
            await inject(CallAbandoned(cid, time.time(), caller="79160000001", wait_s=0.3))
            expected[cid] = "abandoned"
            return
        k = free.pop()
        try:
            agent, client = agents[k], clients[k]
            await inject(CallOffered(cid, time.time(), caller="79160000001", agent=agent))
            await inject(CallAnswered(cid, time.time(), caller="79160000001", agent=agent))
            view = await client.get("/api/subscribers/1/card", params={"call_id": cid})
            if view.status_code != 200:
                failures[f"card_{view.status_code}"] = failures.get(f"card_{view.status_code}", 0) + 1
            await asyncio.sleep(0.5)
            await inject(CallEnded(cid, time.time(), agent=agent, hangup_by="caller"))
            done = await client.post(f"/api/calls/{cid}/wrapup")
            if done.status_code not in (200, 202):
                failures[f"wrapup_{done.status_code}"] = failures.get(f"wrapup_{done.status_code}", 0) + 1
            expected[cid] = "ended"
        finally:
            free.append(k)

    start = time.monotonic()
    n = 0
    while time.monotonic() - start < seconds:
        tasks.append(asyncio.create_task(one(n)))
        n += 1
        await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
    await asyncio.gather(*tasks)
    if failures:
        log(f"{tag}: operator requests not accepted: {failures}")
    return expected


def _count_losses(db: Any, expected: dict[str, str]) -> tuple[int, int]:
    from sqlalchemy import select

    from workstation.models import AuditLog, Call

    with db.session() as s:
        states = dict(s.execute(select(Call.id, Call.state).where(Call.id.in_(list(expected)))).all())
        audits = s.execute(
            select(AuditLog.action, AuditLog.details).where(AuditLog.action.in_(("card.pop", "card.view")))
        ).all()
    lost_calls = sum(1 for cid, state in expected.items() if states.get(cid) != state)
    seen = {(a, (d or {}).get("call_id")) for a, d in audits}
    answered = [cid for cid, state in expected.items() if state == "ended"]
    lost_audit = sum((a, cid) not in seen for cid in answered for a in ("card.pop", "card.view"))
    return lost_calls, lost_audit


def outage(kind: str, outage_s: float, rate: float, tmp: Path) -> dict[str, Any]:
    """20 calls/s for a few seconds, then ``outage_s`` with ``kind`` (postgresql | redis) down, then back."""
    from billing_adapter.memory import MemoryBilling, make_card
    from tests.apphelpers import PASSWORD, ServerThread, add_user, make_container
    from tests.own_services import OwnPostgres, OwnRedis
    from workstation.app import create_app

    pg, redis = OwnPostgres(), OwnRedis()
    pg.start()
    redis.start()
    data = tmp / f"outage-{kind}"
    data.mkdir()
    billing = MemoryBilling()
    billing.add(make_card("1", "79160000001"))
    container = make_container(
        data, db_url=pg.url, billing=billing, bus_url=redis.url, cache_url=redis.url, features=[]
    )
    agents = [f"PJSIP/{3000 + i}" for i in range(40)]
    for i, agent in enumerate(agents):
        add_user(container, f"op{i}", interface=agent, extension=str(3000 + i))
    try:
        with ServerThread(create_app(container)) as server:
            calls = container.calls

            async def run() -> dict[str, str]:
                clients = [httpx.AsyncClient(base_url=server.url, timeout=30) for _ in agents]
                for i, c in enumerate(clients):
                    r = await c.post("/api/auth/login", json={"username": f"op{i}", "password": PASSWORD})
                    r.raise_for_status()
                expected = await _call_traffic(server, calls, clients, agents, rate, 3.0, f"{kind}-before")
                log(f"{kind}: down for {outage_s:.0f} s at {rate:g} calls/s")
                (pg if kind == "postgresql" else redis).stop()
                expected |= await _call_traffic(
                    server, calls, clients, agents, rate, outage_s, f"{kind}-during"
                )
                (pg if kind == "postgresql" else redis).start()
                log(f"{kind}: back")
                expected |= await _call_traffic(server, calls, clients, agents, rate, 3.0, f"{kind}-after")
                for c in clients:
                    await c.aclose()
                return expected

            expected = asyncio.run(run())
            writer = container.calls.writer
            t_back = time.monotonic()
            server.call(writer.wait_saved(), timeout=120)
            catch_up_s = time.monotonic() - t_back
            quarantined = writer.health()["quarantined"]
        lost_calls, lost_audit = _count_losses(container.db, expected)
        return {
            "outage": kind,
            "outage_s": outage_s,
            "calls": len(expected),
            "lost_calls": lost_calls,
            "lost_audit_rows": lost_audit,
            "quarantined": quarantined,
            "catch_up_s": round(catch_up_s, 1),
        }
    finally:
        container.db.dispose()
        pg.destroy()
        redis.destroy()


# ------------------------------------------------------------------------------------ memory
def unauth_memory(big_posts: int, tmp: Path) -> dict[str, Any]:
    from tests.own_services import free_port
    from tests.served_app import PeakRss, ServedApp

    chunk = b"x" * (1024 * 1024)

    def chunked(mb: int) -> Any:
        for _ in range(mb):
            yield chunk

    data = tmp / "memory"
    data.mkdir()
    with ServedApp(data, free_port()) as app:
        for _ in range(3):  # warm: the first requests load code paths
            httpx.post(app.url + "/api/auth/login", json={"username": "x", "password": "y"})
        rss = PeakRss(app.pid)
        statuses: dict[str, int] = {}

        def big(route: str) -> None:
            try:
                r = httpx.post(
                    app.url + route,
                    content=chunked(300),
                    headers={"Content-Type": "application/json"},
                    timeout=60,
                )
                key = str(r.status_code)
            except httpx.HTTPError:
                key = "cut"
            statuses[key] = statuses.get(key, 0) + 1

        async def small_flood() -> None:
            body = b'{"username": "' + b"a" * (60 * 1024) + b'", "password": "x"}'
            async with httpx.AsyncClient(base_url=app.url, timeout=60) as client:
                rs = await asyncio.gather(
                    *(client.post("/api/auth/login", content=body) for _ in range(200)),
                    return_exceptions=True,
                )
            for r in rs:
                key = str(r.status_code) if isinstance(r, httpx.Response) else "cut"
                statuses[key] = statuses.get(key, 0) + 1

        # routes of the core (the served app has no features): each reads its body before anything else
        routes = ["/api/auth/login", "/api/auth/presence", "/api/calls/x/wrapup", "/api/auth/language"]
        threads = [threading.Thread(target=big, args=(routes[i % len(routes)],)) for i in range(big_posts)]
        with rss:
            for t in threads:
                t.start()
            asyncio.run(small_flood())
            for t in threads:
                t.join()
    growth = rss.growth_mb
    return {
        "unauth_memory_growth_mb": round(growth, 1),
        "unauth_replies": statuses,
        "big_posts_300mb": big_posts,
    }


# ------------------------------------------------------------------------------------ sign-in flood
def loop_cpu_s(pid: int) -> float:
    """CPU seconds of a process's main thread: the server's event loop (pops and HTTP parsing)."""
    for t in psutil.Process(pid).threads():
        if t.id == pid:
            return float(t.user_time + t.system_time)
    return 0.0


class BotnetSignin:
    """32 concurrent wrong sign-ins, random user names, each from a random address (X-Forwarded-For
    through the trusted proxy): no per-user or per-address limit ever trips; hashing must stay bounded."""

    def __init__(self, dep: Any, stop: asyncio.Event) -> None:
        self.base = f"http://127.0.0.1:{dep.servers[0].port}"
        self.pid = dep.servers[0].proc.pid
        self.stop = stop
        self.counts: dict[str, int] = {}
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.loop0, self.t0 = loop_cpu_s(self.pid), time.monotonic()
        self.tasks = [asyncio.create_task(self.guesser()) for _ in range(32)]

    async def guesser(self) -> None:
        rng = random.Random()
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as client:
            while not self.stop.is_set():
                addr = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                body = {"username": f"u{rng.randrange(10**9)}", "password": "guess"}
                try:
                    r = await client.post("/api/auth/login", json=body, headers={"X-Forwarded-For": addr})
                    key = f"http_{r.status_code}"
                except httpx.HTTPError:
                    key = "failed"
                    await asyncio.sleep(0.1)
                self.counts[key] = self.counts.get(key, 0) + 1

    async def finish(self) -> dict[str, Any]:
        await asyncio.gather(*self.tasks, return_exceptions=True)
        seconds = time.monotonic() - self.t0
        return {
            "flood_replies": dict(self.counts),
            "flood_loop_cpu_pct": round(100 * (loop_cpu_s(self.pid) - self.loop0) / seconds, 1),
            "flood_seconds": round(seconds, 1),
            "flood_requests_per_s": round(sum(self.counts.values()) / seconds, 1),
        }


async def flood_alone(dep: Any, seconds: float) -> dict[str, Any]:
    """The flood with no calls: the event loop's CPU per sign-in request (parsing, gate, refusals)."""
    stop = asyncio.Event()
    bot = BotnetSignin(dep, stop)
    await bot.start()
    await asyncio.sleep(seconds)
    stop.set()
    out = await bot.finish()
    rps = out["flood_requests_per_s"]
    out["loop_ms_per_request"] = round(10 * out["flood_loop_cpu_pct"] / rps, 3) if rps else None
    return out


def signin_flood(seconds: float, rate: float, tmp: Path) -> dict[str, Any]:
    os.environ["WORKSTATION_TRUSTED_PROXIES"] = '["127.0.0.1"]'
    from screen_pop_deploy import Deployment
    from screen_pop_pressure import PRESSURES
    from screen_pop_setup import make_billing

    PRESSURES["botnet_signin"] = BotnetSignin  # type: ignore[assignment]
    billing, callers = make_billing(tmp, 2000)

    async def run() -> dict[str, Any]:
        dep = Deployment("embedded", 1, 100, "core", tmp, billing)
        await dep.setup()
        try:
            base = await dep.measure(rate, seconds, callers)
            flood = await dep.measure(rate, seconds, callers, pressure="botnet_signin")
            alone = await flood_alone(dep, 5.0)
        finally:
            await dep.teardown()
        return {
            "baseline_pop_p99_ms": base["p99_ms"],
            "flood_pop_p99_ms": flood["p99_ms"],
            "flood_pop_p50_ms": flood["p50_ms"],
            "flood_lost_pops": flood["lost_pops"],
            "flood_replies": flood.get("flood_replies", {}),
            "flood_requests_per_s": flood["flood_requests_per_s"],
            "flood_loop_cpu_pct": flood["flood_loop_cpu_pct"],
            # the flood alone, no calls: what one sign-in request costs the event loop
            "flood_alone": alone,
            "pop_calls_per_s": rate,
            "pop_seconds": seconds,
        }

    return asyncio.run(run())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10 s outages and pop runs, 3 big bodies (< 4 min)")
    args = ap.parse_args()
    outage_s, big, pop_s = (10.0, 3, 10.0) if args.quick else (30.0, 8, 20.0)
    rate = 20.0
    import logging

    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="ws-faults-") as d:
        tmp = Path(d)
        results = [outage("postgresql", outage_s, rate, tmp), outage("redis", outage_s, rate, tmp)]
        log(f"outages: {results}")
        memory = unauth_memory(big, tmp)
        log(f"memory: {memory}")
        flood = signin_flood(pop_s, rate, tmp)
    out = {
        "lost_calls": sum(r["lost_calls"] for r in results),
        "lost_audit_rows": sum(r["lost_audit_rows"] for r in results),
        "unauth_memory_growth_mb": memory["unauth_memory_growth_mb"],
        "flood_pop_p99_ms": flood["flood_pop_p99_ms"],
        "baseline_pop_p99_ms": flood["baseline_pop_p99_ms"],
        "outages": results,
        "memory": memory,
        "flood": flood,
        "quick": args.quick,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "elapsed_s": round(time.monotonic() - T0, 1),
    }
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
