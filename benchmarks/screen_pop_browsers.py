"""The operators' browsers of ``screen_pop.py`` in a process of their own.

The simulator writes a few hundred AMI frames per second of calls; in the same event loop as thousands
of websockets, a pop's arrival would be stamped late whenever the simulator is busy, and the benchmark
would measure itself. Here the browsers have their own loop (``time.monotonic`` is one clock for every
process of the machine, so the simulator's send stamps and these arrival stamps compare).

Protocol on stdin/stdout, one JSON object a line: the parent sends ``{"clients": [[url, headers,
agent], ...]}`` and gets ``{"ready": n, "errors": m}`` once every websocket has its ``hello``; then
``"clear"`` (forget the pops so far), ``"report"`` (→ ``{"arrivals": [[call, agent, t, count], ...]}``)
and ``"stop"``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import psutil
from screen_pop_clients import Stats, operator_client

HANDSHAKES_IN_FLIGHT = 64  # at most this many tabs between connect and hello (5,000 connect in waves)


class BrowserProcess:
    """The parent's handle on the browsers' process: the same figures as a local ``Stats``."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.ready = 0
        self.errors = 0
        self.failures: dict[str, int] = {}  # connect errors, retried or not

    async def start(self, clients: list[tuple[str, dict[str, str], str]], deadline_s: float = 180) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**26,
        )
        answer = await asyncio.wait_for(self._ask({"clients": clients}), deadline_s)
        self.ready, self.errors = answer["ready"], answer["errors"]
        self.failures = answer.get("failures", {})

    async def _ask(self, command: Any) -> Any:
        assert self.proc is not None
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(command).encode() + b"\n")
        await self.proc.stdin.drain()
        return json.loads(await self.proc.stdout.readline())

    def process(self) -> psutil.Process | None:
        return psutil.Process(self.proc.pid) if self.proc is not None else None

    async def clear(self) -> None:
        await self._ask("clear")

    async def report(self, stats: Stats) -> None:
        """Fill ``stats.arrivals`` / ``stats.counts`` with what the browsers saw since ``clear``."""
        answer = await self._ask("report")
        stats.arrivals = {(c, a): t for c, a, t, _ in answer["arrivals"]}
        stats.counts.clear()
        stats.counts.update({(c, a): n for c, a, _, n in answer["arrivals"]})
        stats.messages = answer["messages"]

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        try:
            await asyncio.wait_for(self._ask("stop"), 10)
            await asyncio.wait_for(self.proc.wait(), 10)
        except (TimeoutError, ValueError, BrokenPipeError, ConnectionResetError):
            self.proc.kill()


async def serve() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    stats = Stats()
    tasks: list[asyncio.Task[None]] = []

    def reply(obj: Any) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    while line := await reader.readline():
        command = json.loads(line)
        if isinstance(command, dict):
            clients = command["clients"]
            gate = asyncio.Semaphore(HANDSHAKES_IN_FLIGHT)
            for url, headers, agent in clients:
                tasks.append(asyncio.create_task(operator_client(url, headers, agent, stats, gate)))
            deadline = time.monotonic() + 170
            while stats.ready + stats.errors < len(clients) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            failures = {k: n for k, n in stats.kinds.items() if k.startswith("connect error")}
            reply({"ready": stats.ready, "errors": stats.errors, "failures": failures})
        elif command == "clear":
            stats.clear()
            reply({"ok": True})
        elif command == "report":
            arrivals = [[c, a, t, stats.counts[(c, a)]] for (c, a), t in stats.arrivals.items()]
            reply({"arrivals": arrivals, "messages": stats.messages})
        elif command == "stop":
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            reply({"ok": True})
            return


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve())
