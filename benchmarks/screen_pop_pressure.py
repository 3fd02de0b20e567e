"""Load beside the pops for ``screen_pop.py --pressure``: an export running, a sign-in flood, slow browsers.

Each runs for the whole measured window against the first server process and reports what it got done,
so a line shows both that the pops stayed within budget and that the pressure was real.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import httpx
from screen_pop_browsers import BrowserProcess

from tests.support.frozen_tab import open_frozen_tab

if TYPE_CHECKING:
    from screen_pop_deploy import Deployment

SIGNIN_CONCURRENCY = 32  # the flood of issue 15: 32 wrong sign-ins at a time, without pause
SLOW_BROWSERS = 40
SUPERVISORS = ("supervisor", "supervisor2")  # 20 tabs each: the per-user limit of a node
WAVE_TABS = 2000  # the floor of a node that restarted, reconnecting to this one
WAVE_HOLD_S = 2.0  # how long a wave's tabs stay before they go (and come back)


class Pressure:
    def __init__(self, dep: Deployment, stop: asyncio.Event) -> None:
        self.dep, self.stop = dep, stop
        self.base = f"http://127.0.0.1:{dep.servers[0].port}"
        self.tasks: list[asyncio.Task[None]] = []
        self.counts: Counter[str] = Counter()

    def spawn(self, n: int, make: Any) -> None:
        self.tasks += [asyncio.create_task(make()) for _ in range(n)]

    async def finish(self) -> dict[str, Any]:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        return {"pressure": dict(self.counts)}


class ExportRunning(Pressure):
    """An analyst's segmentation export, started again as soon as the last one ends."""

    async def start(self) -> None:
        uid, tail = self.dep.others["analyst"]
        self.headers = self.dep.cookie_headers(uid, tail)
        self.spawn(1, self.loop)

    async def loop(self) -> None:
        body = {"month_from": "2026-01", "month_to": "2026-06", "k": 5, "reason": "benchmark"}
        async with httpx.AsyncClient(base_url=self.base, headers=self.headers, timeout=60) as client:
            while not self.stop.is_set():
                r = await client.post("/api/exports", json=body)
                if r.status_code != 202:
                    self.counts[f"start_{r.status_code}"] += 1
                    await asyncio.sleep(1.0)
                    continue
                self.counts["started"] += 1
                export_id = r.json()["id"]
                while not self.stop.is_set():
                    await asyncio.sleep(0.25)
                    state = (await client.get(f"/api/exports/{export_id}")).json().get("state")
                    if state != "running":
                        self.counts[str(state)] += 1
                        break


class SigninFlood(Pressure):
    """Wrong passwords for real user names, 32 at a time without pause (argon2 on every one)."""

    async def start(self) -> None:
        self.spawn(SIGNIN_CONCURRENCY, self.guesser)

    async def guesser(self) -> None:
        rng = random.Random()
        names = [f"bench{i}" for i in range(len(self.dep.operators))]
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as client:
            while not self.stop.is_set():
                body = {"username": rng.choice(names), "password": f"guess-{rng.random()}"}
                try:
                    r = await client.post("/api/auth/login", json=body)
                    self.counts[f"http_{r.status_code}"] += 1
                except httpx.HTTPError:
                    self.counts["failed"] += 1
                    await asyncio.sleep(0.1)


class SlowBrowsers(Pressure):
    """Supervisors' tabs (they get every floor change) that stop reading after the handshake: raw
    sockets with a 4 KB receive buffer, never read (``tests/support/frozen_tab.py``). At the end each is
    drained: a tab the server gave up ends (EOF) after a bounded amount of data."""

    async def start(self) -> None:
        cookies = [self.dep.cookie_headers(*self.dep.others[name])["Cookie"] for name in SUPERVISORS]
        port = self.dep.servers[0].port
        self.socks = [await open_frozen_tab(port, cookies[i % 2]) for i in range(SLOW_BROWSERS)]

    async def finish(self) -> dict[str, Any]:
        drained = await asyncio.gather(*(drain(s) for s in self.socks))
        self.counts["slow_tabs"] = SLOW_BROWSERS
        self.counts["closed_by_server"] = sum(1 for ended, _ in drained if ended)
        self.counts["max_kb_buffered_per_tab"] = max((n for _, n in drained), default=0) // 1024
        for s in self.socks:
            s.close()
        return await super().finish()


async def drain(sock: socket.socket, quiet_s: float = 2.0) -> tuple[bool, int]:
    """Read what a frozen tab was sent until the server closes (True) or sends nothing for ``quiet_s``."""
    loop = asyncio.get_running_loop()
    total = 0
    while True:
        try:
            chunk = await asyncio.wait_for(loop.sock_recv(sock, 65536), quiet_s)
        except (TimeoutError, OSError):
            return False, total
        if not chunk:
            return True, total
        total += len(chunk)


class ReconnectWave(Pressure):
    """Another floor's tabs (operators not rung here, ``WAVE_TABS``) reconnecting at once, as after a
    node's restart: every tab opens its websocket with its session cookie (64 handshakes in flight, as
    browsers retrying), stays ``WAVE_HOLD_S``, and the wave goes; then the next, until the window ends.
    The tabs run in a process of their own, like the floor's browsers."""

    async def start(self) -> None:
        dep = self.dep
        self.clients = [
            (dep.ws_url(0, iface), dep.cookie_headers(uid, tail), iface) for uid, iface, tail in dep.spares
        ]
        self.spawn(1, self.waves)

    async def waves(self) -> None:
        while not self.stop.is_set():
            tabs = BrowserProcess()
            try:
                t0 = time.monotonic()
                self.mark("open", t0)
                await tabs.start(self.clients)
                self.mark("in", time.monotonic())
                self.counts["waves"] += 1
                self.counts["tabs_in"] += tabs.ready
                self.counts["tabs_failed"] += tabs.errors
                self.counts["longest_wave_ms"] = max(
                    self.counts["longest_wave_ms"], round(1000 * (time.monotonic() - t0))
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), WAVE_HOLD_S)
            finally:
                self.mark("close", time.monotonic())
                await tabs.stop()
                self.mark("closed", time.monotonic())

    @staticmethod
    def mark(phase: str, at: float) -> None:
        """``POP_WAVE_TRACE``: when each wave started opening, was in, started and ended closing (the
        monotonic clock of ``POP_TRACE``), to tell which phase the slow pops fell in."""
        path = os.environ.get("POP_WAVE_TRACE")
        if path:
            with open(path, "a") as fh:
                fh.write(f"{at:.4f} {phase}\n")


PRESSURES: dict[str, type[Pressure]] = {
    "export": ExportRunning,
    "signin": SigninFlood,
    "slow": SlowBrowsers,
    "reconnect": ReconnectWave,
}


async def start_pressure(name: str, dep: Deployment, stop: asyncio.Event) -> Pressure:
    p = PRESSURES[name](dep, stop)
    await p.start()  # type: ignore[attr-defined]
    return p
