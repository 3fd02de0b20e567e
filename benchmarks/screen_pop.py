"""Screen-pop latency: AMI event leaving the simulator → ``call.offered`` arriving on the operator's websocket.

Starts the real app (``workstation serve``) in separate processes with telephony pointed at an
``AmiSimulator`` running here over TCP, creates N operators (each with its own ``PJSIP/<ext>`` interface),
connects one signed-in websocket per operator, plays calls from the real Asterisk traces at R per second
(answered, ring-no-answer, ring-all, direct, abandoned) and measures every pop. Operators set themselves
Ready one second after each call ends. Prints one JSON object per line:

* ``relay``: the floor, the bare relay (``pop_relay.py``): same simulator, AMI client and web server, no
  card, DB or bus. Every other line carries ``relay_p99_ms`` and ``ratio_p99`` (ours / relay's), which
  hold on a shared machine where absolute times move with the load;
* ``embedded``: one server process, SQLite workstation DB, in-process bus and cache;
* ``redis``: N server processes (``nodes``) behind Redis pub/sub (one AMI consumer by the Redis leader
  lock), PostgreSQL; the operators' websockets are split over the nodes.

Billing is a generated demo billing (SQLite); callers are its numbers, so every pop carries a real card.
Sessions are minted with the app's signing key (the websocket still checks them against the DB).

    python benchmarks/screen_pop.py             # relay, embedded, redis ×2: 500 operators, 20 calls/s, ≥ 1,000 pops each
    python benchmarks/screen_pop.py --quick     # the same, 4 s of calls each (< 1 min)
    python benchmarks/screen_pop.py --sweep --app core  # calls/s × operators × nodes: the ceiling (~30 min)
    python benchmarks/screen_pop.py --pressure  # pops with an export running, a sign-in flood, slow browsers,
                                                # a floor of 2,000 tabs reconnecting in waves

``scripts/plot_sweep.py`` draws the sweep's lines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from screen_pop_deploy import Deployment, log  # noqa: E402
from screen_pop_pressure import PRESSURES  # noqa: E402
from screen_pop_setup import make_billing  # noqa: E402

BUDGET_MS = 50.0
SWEEP_RATES = (20, 50, 100, 200)
SWEEP_OPERATORS = (500, 2000, 5000)
SWEEP_NODES = (1, 2, 3)


def seconds_for(args: argparse.Namespace, rate: float) -> float:
    """Long enough for ``--pops`` pops at this rate (a call rings 1.1 operators on average)."""
    if args.quick:
        return args.duration or 4.0
    return args.duration or max(args.min_seconds, args.pops / (rate * 1.05))


def min_pops(args: argparse.Namespace) -> int:
    return 0 if args.quick or args.duration else args.pops


def with_ratio(line: dict[str, Any], relay: dict[str, Any] | None) -> dict[str, Any]:
    if relay is not None:
        line["relay_p50_ms"] = relay["p50_ms"]
        line["relay_p99_ms"] = relay["p99_ms"]
        line["ratio_p50"] = round(line["p50_ms"] / relay["p50_ms"], 2) if relay["p50_ms"] else None
        line["ratio_p99"] = round(line["p99_ms"] / relay["p99_ms"], 2) if relay["p99_ms"] else None
    line["within_budget"] = line["p99_ms"] <= BUDGET_MS and line["lost_pops"] == 0
    return line


def emit(line: dict[str, Any], out: Path | None) -> None:
    text = json.dumps(line)
    print(text, flush=True)
    if out is not None:
        with out.open("a") as fh:
            fh.write(text + "\n")


async def run_group(
    args: argparse.Namespace,
    tmp: Path,
    billing: Path,
    callers: list[str],
    specs: list[tuple[str, int]],
    operators: int,
    rates: tuple[float, ...],
    pressures: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """Set up the relay and each (mode, nodes) at once (start-up is not measured), then measure each
    alone, rate by rate; the relay's figure at the same rate goes on every line."""
    app = "full" if pressures else args.app
    deps = [Deployment("relay", 1, operators, "relay", tmp, billing)]
    deps += [Deployment(mode, nodes, operators, app, tmp, billing, pressures) for mode, nodes in specs]
    lines: list[dict[str, Any]] = []
    try:
        await asyncio.gather(*(d.setup() for d in deps))
        relay_at: dict[float, dict[str, Any]] = {}
        for rate in rates:
            line = await deps[0].measure(rate, seconds_for(args, rate), callers, min_pops=min_pops(args))
            relay_at[rate] = line
            emit(with_ratio(line, None), args.out)
            lines.append(line)
        for dep in deps[1:]:
            for rate in rates:
                for pressure in ("", *pressures):
                    line = await dep.measure(
                        rate, seconds_for(args, rate), callers, pressure, min_pops=min_pops(args)
                    )
                    emit(with_ratio(line, relay_at[rate]), args.out)
                    lines.append(line)
    finally:
        await asyncio.gather(*(d.teardown() for d in deps), return_exceptions=True)
    return lines


async def run_one_by_one(
    args: argparse.Namespace,
    tmp: Path,
    billing: Path,
    callers: list[str],
    specs: list[tuple[str, int]],
    operators: int,
    rates: tuple[float, ...],
) -> list[dict[str, Any]]:
    """The sweep: the relay, then each (mode, nodes), each set up alone, measured at every rate and torn
    down before the next (thousands of idle websockets of the others would load the machine)."""
    lines: list[dict[str, Any]] = []
    relay_at: dict[float, dict[str, Any]] = {}
    for kind, nodes in [("relay", 1), *specs]:
        dep = Deployment(kind, nodes, operators, "relay" if kind == "relay" else args.app, tmp, billing)
        try:
            await dep.setup()
            for rate in rates:
                line = await dep.measure(rate, seconds_for(args, rate), callers, min_pops=min_pops(args))
                if kind == "relay":
                    relay_at[rate] = line
                emit(with_ratio(line, relay_at.get(rate) if kind != "relay" else None), args.out)
                lines.append(line)
        finally:
            await dep.teardown()
    return lines


def ceilings(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (nodes, operators): the highest call rate whose p99 is within budget with no pop lost."""
    out = []
    configs = sorted({(x["server_processes"], x["operators"]) for x in lines if x["mode"] == "redis"})
    for nodes, ops in configs:
        points = [
            x
            for x in lines
            if x["mode"] == "redis" and (x["server_processes"], x["operators"]) == (nodes, ops)
        ]
        held = [x["calls_per_s"] for x in points if x["within_budget"]]
        out.append(
            {
                "mode": "ceiling",
                "nodes": nodes,
                "operators": ops,
                "max_calls_per_s_within_budget": max(held, default=0),
                "budget_p99_ms": BUDGET_MS,
            }
        )
    return out


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="screen_pop_") as d:
        tmp = Path(os.environ.get("SCREEN_POP_KEEP") or d)
        tmp.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, before the run is measured)
        billing, callers = make_billing(tmp, args.subscribers)
        log(f"demo billing ready ({args.subscribers} subscribers)")
        if args.sweep:
            lines: list[dict[str, Any]] = []
            for ops in args.sweep_operators:
                specs = [("redis", n) for n in args.sweep_nodes]
                lines += await run_one_by_one(
                    args, tmp, billing, callers, specs, ops, tuple(args.sweep_rates)
                )
            for c in ceilings(lines):
                emit(c, args.out)
        elif args.pressure:
            specs = [(m, 2 if m == "redis" else 1) for m in args.modes]
            await run_group(
                args, tmp, billing, callers, specs, args.operators, (args.rate,), tuple(args.pressure)
            )
        else:
            specs = [(m, args.nodes if m == "redis" else 1) for m in args.modes]
            await run_group(args, tmp, billing, callers, specs, args.operators, (args.rate,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operators", type=int, default=500)
    parser.add_argument("--rate", type=float, default=20.0, help="calls per second")
    parser.add_argument(
        "--duration", type=float, help="seconds of calls per line (default: enough for --pops)"
    )
    parser.add_argument("--pops", type=int, default=1000, help="pops per line (default 1000)")
    parser.add_argument("--min-seconds", type=float, default=8.0)
    parser.add_argument("--modes", nargs="+", default=["embedded", "redis"], choices=["embedded", "redis"])
    parser.add_argument("--nodes", type=int, default=2, help="server processes in redis mode")
    parser.add_argument("--app", choices=["full", "core"], help="full app or screen-pop core (default: full)")
    parser.add_argument("--subscribers", type=int, help="demo billing size (default 5000, --quick 2000)")
    parser.add_argument("--quick", action="store_true", help="a short run: 4 s of calls per line, core app")
    parser.add_argument("--sweep", action="store_true", help="calls/s × operators × nodes on Redis")
    parser.add_argument("--sweep-rates", type=float, nargs="+", default=list(SWEEP_RATES))
    parser.add_argument("--sweep-operators", type=int, nargs="+", default=list(SWEEP_OPERATORS))
    parser.add_argument("--sweep-nodes", type=int, nargs="+", default=list(SWEEP_NODES))
    parser.add_argument(
        "--pressure", nargs="*", choices=sorted(PRESSURES), help="pressure runs (none named: all of them)"
    )
    parser.add_argument("--out", type=Path, help="also append the JSON lines to this file")
    args = parser.parse_args()
    if args.pressure is not None and not args.pressure:
        args.pressure = sorted(PRESSURES)
    if args.quick:
        args.app = args.app or "core"
    args.subscribers = args.subscribers or (2000 if args.quick else 5000)
    args.app = args.app or "full"
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    started = time.monotonic()
    asyncio.run(main_async(args))
    log(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
