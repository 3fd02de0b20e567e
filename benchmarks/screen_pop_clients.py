"""The browsers of ``screen_pop.py``: operators' websockets (pops timed on arrival), slow browsers, and the
Redis-mode bus listener; the statistics of one measurement."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import websockets

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WRAP_UP_S = 1.0  # an operator is Ready again this long after the call ended (the bench does no records)
CONNECT_ATTEMPTS = 4


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


@dataclass
class Stats:
    arrivals: dict[tuple[str, str], float] = field(default_factory=dict)  # (call id, agent) -> monotonic
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    ready: int = 0
    errors: int = 0
    messages: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    published: dict[tuple[str, str], float] = field(default_factory=dict)  # (call id, user id) -> monotonic

    def clear(self) -> None:
        self.arrivals.clear()
        self.counts.clear()
        self.published.clear()


async def operator_client(
    url: str, headers: dict[str, str], agent: str, stats: Stats, gate: asyncio.Semaphore | None = None
) -> None:
    """One operator's tab: records each ``call.offered``; after a call ends it sets itself Ready again
    (what an operator does after the request record), so the floor does not run out of free operators.
    ``gate``: held from the connect to the ``hello`` (a bound on handshakes in flight: 5,000 tabs
    connecting at once would time out on a two-core machine; a sign-in storm is another benchmark)."""
    wrap_ups: set[asyncio.Task[None]] = set()

    async def ready_later(ws: Any) -> None:
        await asyncio.sleep(WRAP_UP_S)
        with contextlib.suppress(websockets.ConnectionClosed):
            await ws.send('{"type": "presence", "presence": "ready"}')

    for attempt in range(CONNECT_ATTEMPTS):  # a handshake can time out while thousands connect at once
        greeted = False
        held = gate is not None
        if gate is not None:
            await gate.acquire()
        try:
            # no client pings: browsers do not send them (the server's own keep-alive pings stay)
            async with websockets.connect(
                url, additional_headers=headers, max_size=2**22, ping_interval=None, open_timeout=30
            ) as ws:
                async for frame in ws:
                    now = time.monotonic()
                    raw = frame if isinstance(frame, str) else frame.decode()
                    stats.messages += 1
                    if '"call.offered"' in raw:
                        msg = json.loads(raw)
                        key = (msg["call"]["id"], agent)
                        stats.counts[key] += 1
                        stats.arrivals.setdefault(key, now)
                    elif '"call.ended"' in raw:
                        task = asyncio.create_task(ready_later(ws))
                        wrap_ups.add(task)
                        task.add_done_callback(wrap_ups.discard)
                    elif '"hello"' in raw:
                        greeted = True
                        stats.ready += 1
                        if held and gate is not None:
                            held = False
                            gate.release()
                    else:
                        stats.kinds[raw[:40]] += 1
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            stats.kinds[f"connect error: {type(exc).__name__}: {str(exc)[:60]}"] += 1
            if held and gate is not None:  # not while backing off
                held = False
                gate.release()
            if greeted or attempt == CONNECT_ATTEMPTS - 1:
                stats.errors += 1
                return
            await asyncio.sleep(1.0 + attempt)
        finally:
            if held and gate is not None:
                gate.release()
            for task in wrap_ups:
                task.cancel()


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
                msg = json.loads(item["data"].partition("\n")[2] or item["data"])  # "<node>\n<JSON>"
                stats.published.setdefault((msg["call"]["id"], item["channel"].rsplit(".", 1)[1]), now)
    finally:
        await pubsub.aclose()
        await r.aclose()


def latency_figures(
    sent: dict[tuple[str, str], tuple[float, float]], stats: Stats, uid_of: dict[str, str]
) -> dict[str, Any]:
    """p50/p95/p99/max of ringing event sent → ``call.offered`` received, lost and duplicate pops."""
    lat = [(stats.arrivals[k] - v[0]) * 1000 for k, v in sent.items() if k in stats.arrivals]
    out: dict[str, Any] = {
        "pops": len(sent),
        "lost_pops": sum(1 for k in sent if k not in stats.arrivals),
        "duplicate_pops": sum(c - 1 for c in stats.counts.values() if c > 1),
        "p50_ms": round(percentile(lat, 50), 2),
        "p95_ms": round(percentile(lat, 95), 2),
        "p99_ms": round(percentile(lat, 99), 2),
        "max_ms": round(max(lat, default=0.0), 2),
        "mean_ms": round(statistics.fmean(lat), 2) if lat else 0.0,
    }
    to_bus = [
        (stats.published[(cid, uid_of[agent])] - v[0]) * 1000
        for (cid, agent), v in sent.items()
        if agent in uid_of and (cid, uid_of[agent]) in stats.published
    ]
    if to_bus:
        out["p50_to_bus_ms"] = round(percentile(to_bus, 50), 2)
        out["p99_to_bus_ms"] = round(percentile(to_bus, 99), 2)
    trace = os.environ.get("POP_TRACE")  # one line per pop, for looking at when the slow ones happen
    if trace:
        with open(trace, "a") as fh:
            for k, v in sorted(sent.items(), key=lambda kv: kv[1][0]):
                ms = (stats.arrivals[k] - v[0]) * 1000 if k in stats.arrivals else -1.0
                fh.write(f"{v[0]:.4f} {ms:.1f} {k[0]} {k[1]}\n")
    return out
