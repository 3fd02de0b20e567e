"""What one browser tab costs a server: CPU per websocket opened (handshake, session, first frames) and per
websocket closed, ours against the relay (bare uvicorn + Starlette websockets), side by side in one run.

No calls ring: the tabs alone. A wave opens ``--tabs`` tabs (64 handshakes in flight, in a process of
their own, as ``screen_pop.py --pressure reconnect`` does), then closes them all; the server's CPU is read
(user + system, all its threads) when the last tab is in and again once the server is idle after the
close. One more tab pings each server every 5 ms: its round trips during the opens and during the closes
are how long that server's event loop was kept from a ringing call's pop. Prints one JSON line per
server and wave, then a summary line per server (medians over the waves).

    WORKSTATION_WS_HANDSHAKES_PER_S=0 flock /tmp/bench.lock .venv/bin/python benchmarks/tab_cost.py [--tabs 2000] [--waves 3]

(``WORKSTATION_WS_HANDSHAKES_PER_S=0``: our server unpaced, so both take the wave as fast as they can.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from screen_pop_browsers import BrowserProcess  # noqa: E402
from screen_pop_deploy import Deployment, cpu_s, log  # noqa: E402
from screen_pop_setup import Server, make_billing, wait_idle  # noqa: E402


class Probe:
    """One more tab that pings the server every ``PROBE_EVERY_S`` (a websocket ping, answered by the
    server's event loop as it reads the socket): the round trips, by the wave's phase, are how long the
    loop was kept from anything else, a ringing call's pop included."""

    PROBE_EVERY_S = 0.005

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url, self.headers = url, headers
        self.phase = "idle"
        self.rtts: dict[str, list[float]] = {}
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        async with websockets.connect(self.url, additional_headers=self.headers, ping_interval=None) as ws:
            while True:
                t0 = time.monotonic()
                await (await ws.ping())
                self.rtts.setdefault(self.phase, []).append(time.monotonic() - t0)
                await asyncio.sleep(self.PROBE_EVERY_S)

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for phase, rtts in self.rtts.items():
            ms = sorted(1000 * r for r in rtts)
            out[f"probe_{phase}_p99_ms"] = round(ms[min(len(ms) - 1, int(0.99 * len(ms)))], 2)
            out[f"probe_{phase}_max_ms"] = round(ms[-1], 2)
        return out


async def wave(
    name: str, server: Server, clients: list[tuple[str, dict[str, str], str]], probe: Probe
) -> dict[str, Any]:
    proc = psutil.Process(server.proc.pid)
    tabs = BrowserProcess()
    probe.rtts.clear()
    c0, t0 = cpu_s(proc), time.monotonic()
    probe.phase = "open"
    await tabs.start(clients)
    c1, t1 = cpu_s(proc), time.monotonic()
    browsers = tabs.process()
    browsers_cpu = cpu_s(browsers)
    probe.phase = "close"
    await tabs.stop()
    await wait_idle([server], deadline_s=30.0, below_pct=3.0)  # the closes are done
    probe.phase = "idle"
    c2 = cpu_s(proc)
    n = max(tabs.ready, 1)
    return {
        "server": name,
        "tabs": tabs.ready,
        "failed": tabs.errors,
        "open_s": round(t1 - t0, 2),
        "tabs_per_s": round(tabs.ready / max(t1 - t0, 1e-9), 1),
        "cpu_ms_per_open": round(1000 * (c1 - c0) / n, 3),
        "cpu_ms_per_close": round(1000 * (c2 - c1) / n, 3),
        "browsers_cpu_ms_per_open": round(1000 * browsers_cpu / n, 3),
        **probe.figures(),
    }


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="tab_cost_") as d:
        tmp = Path(d)
        billing, _callers = make_billing(tmp, 1000)
        relay = Deployment("relay", 1, 1, "relay", tmp, billing)
        ours = Deployment("embedded", 1, 1, args.app, tmp, billing, ("reconnect",))
        try:
            for dep in (relay, ours):
                await dep.setup()
            await wait_idle(relay.servers + ours.servers)
            relay_clients = [
                (relay.ws_url(0, f"PJSIP/{30000 + i}"), {}, f"PJSIP/{30000 + i}") for i in range(args.tabs)
            ]
            our_clients = [
                (ours.ws_url(0, iface), ours.cookie_headers(uid, tail), iface)
                for uid, iface, tail in ours.spares[: args.tabs]
            ]
            uid, iface, tail = ours.operators[0]
            probes = {
                "relay": Probe(relay.ws_url(0, "PJSIP/39999"), {}),
                "ours": Probe(ours.ws_url(0, iface), ours.cookie_headers(uid, tail)),
            }
            for p in probes.values():
                p.task = asyncio.create_task(p.run())
            lines: dict[str, list[dict[str, Any]]] = {"relay": [], "ours": []}
            for i in range(args.waves):  # alternating, so both see the same machine
                for name, dep, clients in (("relay", relay, relay_clients), ("ours", ours, our_clients)):
                    line = await wave(name, dep.servers[0], clients, probes[name])
                    line["wave"] = i + 1
                    print(json.dumps(line), flush=True)
                    lines[name].append(line)
            for name, got in lines.items():
                summary: dict[str, Any] = {
                    "server": name,
                    "summary": True,
                    "waves": len(got),
                    "app": args.app,
                }
                keys = [k for k in got[0] if k.startswith(("cpu_", "tabs_per_s", "browsers_", "probe_"))]
                for key in keys:
                    summary[key] = round(statistics.median(x.get(key, 0) for x in got), 3)
                print(json.dumps(summary), flush=True)
        finally:
            for p in probes.values() if "probes" in locals() else ():
                if p.task is not None:
                    p.task.cancel()
            await asyncio.gather(relay.teardown(), ours.teardown(), return_exceptions=True)
            log("done")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tabs", type=int, default=2000, help="tabs per wave (at most the spare operators)")
    parser.add_argument("--waves", type=int, default=3)
    parser.add_argument("--app", default="full", choices=("full", "core"))
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
