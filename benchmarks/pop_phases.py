"""Where a screen pop's time goes inside the server: a diagnostic wrapper for ``screen_pop.py``.

``serve`` runs ``workstation serve`` with stamps on the pop path (not in the product): when the normaliser
hands a ``CallOffered`` to the call lanes, when the call service's handler starts and ends, when the
``call.offered`` frame is written to the tab's socket; plus every garbage collection (generation, pause,
the thread that triggered it, objects freed, and for gen1/gen2 the objects still tracked), every stall of
the event loop over 4 ms split by the loop thread's schedstat (on a CPU, waiting for one, neither), each
thread's CPU and the journal's appends by kind. They are written to
``POP_PHASES_OUT`` when the server stops. ``report`` joins them with ``screen_pop.py``'s ``POP_TRACE`` (the
simulator's send time and the latency of each pop) and prints one JSON object: p50 / p99 / max of each
phase over the pops of one ring (a ring-all call's frames cannot be told apart by call id), the stalls and
the collections during the calls, and how many of the slowest 1 % of pops overlapped a collection.

    rm -f /tmp/trace.txt
    POP_TRACE=/tmp/trace.txt POP_APP_SCRIPT=benchmarks/pop_phases.py POP_PHASES_OUT=/tmp/phases.json \\
        flock /tmp/bench.lock .venv/bin/python benchmarks/screen_pop.py --modes embedded
    .venv/bin/python benchmarks/pop_phases.py report /tmp/trace.txt /tmp/phases.json

The trace holds the relay's pops first, then the server's: ``report`` takes the pops it has stamps for.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

TICK_S = 0.002  # the stall watcher's timer
STALL_S = 0.004  # a watcher's pass longer than this is a stall
mono = time.monotonic


def serve(port: str) -> None:
    """``workstation serve --port PORT`` with the stamps (called as ``POP_APP_SCRIPT``, in the server's
    checkout: ``SCREEN_POP_SERVER_ROOT`` when an A/B runs another one)."""
    sys.path.insert(0, os.getcwd())
    from starlette.websockets import WebSocket

    import telephony.lanes as lanes
    import workstation.calls.outbox as outbox
    import workstation.calls.service as service
    from telephony.events import CallOffered
    from workstation.cli import main

    stamps: dict[str, dict[str, float]] = {}  # "call agent" → normalised / h0 / h1; "call" → s0 / s1
    gcs: list[tuple[float, int, float, bool, int, int]] = []  # + objects freed, objects tracked after
    stalls: list[tuple[float, float, float, float, float]] = []  # start, ms; loop ran, queued; others ran
    main_thread, started = threading.get_native_id(), [0.0]

    def tracked() -> int:  # objects tracked now outside the frozen heap: O(n), after gen1/gen2 only
        return sum(len(gc.get_objects(generation)) for generation in (0, 1, 2))

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = mono()
        else:
            pause = (mono() - started[0]) * 1000
            on_loop = threading.get_native_id() == main_thread
            gcs.append(
                (
                    started[0],
                    info["generation"],
                    pause,
                    on_loop,
                    info["collected"],
                    tracked() if info["generation"] else 0,
                )
            )

    put, offered, send_text = lanes.CallLanes.put, service.CallService._offered, WebSocket.send_text
    append, appended = outbox.Outbox.append, Counter[str]()

    def counted_append(self: Any, kind: str, call_id: str, fields: dict[str, Any]) -> None:
        appended[kind] += 1
        append(self, kind, call_id, fields)

    start, stop = service.CallService.start, service.CallService.stop

    def stamped_put(self: Any, events: list[Any]) -> None:
        now = mono()
        for ev in events:
            if isinstance(ev, CallOffered):
                stamps.setdefault(f"{ev.call_id} {ev.agent}", {})["normalised"] = now
        put(self, events)

    async def stamped_offered(self: Any, ev: Any) -> None:
        mark = stamps.setdefault(f"{ev.call_id} {ev.agent}", {})
        mark["h0"] = mono()
        try:
            await offered(self, ev)
        finally:
            mark["h1"] = mono()

    async def stamped_send(self: Any, data: str) -> None:
        if not data.startswith('{"type":"call.offered"'):
            await send_text(self, data)
            return
        t0 = mono()
        await send_text(self, data)
        t1 = mono()  # before the frame is parsed for its call id: the send phase is the send alone
        stamps.setdefault(json.loads(data)["call"]["id"], {}).update(s0=t0, s1=t1)

    async def watch_loop() -> None:
        probe, last = _sched_probe(), mono()
        before = probe()
        while True:
            await asyncio.sleep(TICK_S)
            now, after = mono(), probe()
            if now - last > STALL_S:  # + the loop on a CPU, waiting for one, the other threads on one
                ran, queued = after[0] - before[0], after[1] - before[1]
                stalls.append((last, (now - last) * 1000, ran, queued, after[2] - before[2] - ran))
            last, before = now, after

    async def stamped_start(self: Any) -> None:
        self._phases_watch = asyncio.create_task(watch_loop())
        await start(self)

    async def stamped_stop(self: Any) -> None:
        out = {
            "stamps": stamps,
            "gcs": gcs,
            "stalls": stalls,
            "threads_cpu_ms": _threads_cpu(),
            "journal_appends": appended,
        }
        path = Path(os.environ.get("POP_PHASES_OUT", "pop_phases.json"))
        await asyncio.to_thread(path.write_text, json.dumps(out))
        self._phases_watch.cancel()
        await stop(self)

    lanes.CallLanes.put = stamped_put
    outbox.Outbox.append = counted_append  # type: ignore[method-assign]
    service.CallService._offered = stamped_offered
    service.CallService.start = stamped_start
    service.CallService.stop = stamped_stop
    WebSocket.send_text = stamped_send
    gc.callbacks.append(on_gc)
    sys.argv = ["workstation", "serve", "--port", port]
    main()


def _sched_probe() -> Callable[[], tuple[float, float, float]]:
    """A cheap reading for each loop pass (a few microseconds, not a scan of every thread): the loop's
    thread's ns on a CPU and ns waiting on a run queue (the kernel's schedstat), and the process's CPU."""
    fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY)

    def read() -> tuple[float, float, float]:
        ran, waited, _ = os.pread(fd, 128, 0).split()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return int(ran) / 1e6, int(waited) / 1e6, (usage.ru_utime + usage.ru_stime) * 1000

    return read


def _threads_cpu() -> dict[str, float]:
    """CPU ms of each thread of this process so far, by its Python name where it has one."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = {}
    for task in os.scandir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task.name}/schedstat") as f:
                ran = int(f.read().split()[0]) / 1e6
            with open(f"/proc/self/task/{task.name}/comm") as f:
                comm = f.read().strip()
        except OSError:  # the thread ended between the listing and the read
            continue
        name = names.get(int(task.name), comm)
        out[name] = round(out.get(name, 0.0) + ran, 1)
    return out


def _figures(values: list[float]) -> dict[str, float]:
    v = sorted(values)
    if not v:
        return {}

    def at(q: float) -> float:
        return round(v[min(len(v) - 1, int(q * len(v)))], 2)

    return {"p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": round(v[-1], 2)}


def report(trace: Path, phases: Path) -> dict[str, Any]:
    data = json.loads(phases.read_text())
    stamps = data["stamps"]
    pops = [line.split() for line in trace.read_text().splitlines() if line.strip()]
    pops = [p for p in pops if f"{p[2]} {p[3]}" in stamps]  # the server's (the relay's have no stamps)
    rings = Counter(p[2] for p in pops)
    rows: list[dict[str, float]] = []
    for sent, ms, call_id, agent in pops:
        mark, sent_at = stamps[f"{call_id} {agent}"], stamps.get(call_id, {})
        if rings[call_id] != 1 or not {"normalised", "h0", "h1"} <= mark.keys() or "s1" not in sent_at:
            continue
        t0, total = float(sent), float(ms)
        rows.append(
            {
                "total": total,
                "ami_to_event": (mark["normalised"] - t0) * 1000,
                "event_to_handler": (mark["h0"] - mark["normalised"]) * 1000,
                "handler": (mark["h1"] - mark["h0"]) * 1000,
                "handler_to_writer": (sent_at["s0"] - mark["h1"]) * 1000,
                "send": (sent_at["s1"] - sent_at["s0"]) * 1000,
                "socket_to_browser": (t0 + total / 1000 - sent_at["s1"]) * 1000,
            }
        )
    times = [float(p[0]) for p in pops]
    first, last = (min(times), max(times)) if times else (0.0, 0.0)
    gcs = [g for g in data["gcs"] if first <= g[0] <= last]
    stalls = [s for s in data["stalls"] if first <= s[0] <= last]
    slowest = sorted(pops, key=lambda p: -float(p[1]))[: max(1, len(pops) // 100)]
    hit = sum(
        1
        for p in slowest
        if any(g[0] <= float(p[0]) + float(p[1]) / 1000 and g[0] + g[2] / 1000 >= float(p[0]) for g in gcs)
    )
    return {
        "pops": len(pops),
        "pops_of_one_ring": len(rows),
        "phases": {k: _figures([r[k] for r in rows]) for k in (rows[0] if rows else {})},
        "seconds": round(last - first, 1),
        "loop_stalls_over_4ms": len(stalls),
        "loop_stall_ms": _figures([s[1] for s in stalls]),
        "loop_stalls_split_ms": _split(stalls),
        "collections": [
            {
                "generation": g[1],
                "pause_ms": round(g[2], 2),
                "on_loop_thread": g[3],
                **({"freed": g[4], "tracked_after": g[5]} if len(g) >= 6 else {}),  # (older traces lack them)
            }
            for g in gcs
        ],
        "slowest_1pct_during_a_collection": f"{hit} of {len(slowest)}",
        "threads_cpu_ms": data.get("threads_cpu_ms", {}),
        "journal_appends": data.get("journal_appends", {}),
    }


def _split(stalls: list[list[float]]) -> dict[str, Any]:
    """Where the stalls' time went, summed over all stalls and over the ten longest (older traces lack it)."""
    rows = [s for s in stalls if len(s) >= 5]

    def sums(part: list[list[float]]) -> dict[str, float]:
        total = sum(s[1] - 1000 * TICK_S for s in part)  # beyond the sleep the watcher asks for
        ran, queued, others = (sum(s[i] for s in part) for i in (2, 3, 4))
        return {
            "stalled_beyond_the_tick": round(total, 1),
            "loop_on_cpu": round(ran, 1),
            "loop_waiting_for_a_cpu": round(queued, 1),
            "loop_off_cpu_otherwise": round(max(0.0, total - ran - queued), 1),
            "other_threads_on_cpu": round(others, 1),
        }

    longest = sorted(rows, key=lambda s: -s[1])[:10]
    return {"all": sums(rows), "ten_longest": sums(longest)}


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "report":
        print(json.dumps(report(Path(sys.argv[2]), Path(sys.argv[3]))))
    elif len(sys.argv) == 2:
        serve(sys.argv[1])
    else:
        sys.exit(__doc__)
