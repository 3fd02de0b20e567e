"""Draw the screen-pop sweep (``benchmarks/screen_pop.py --sweep --out FILE``) as one PNG.

Left: p99 ring → card against calls per second, one line per operators × nodes, the bare relay dashed,
the 50 ms budget as a band. Right: the CPU the point cost (server processes, Redis, simulator, browsers).

    python scripts/plot_sweep.py benchmarks/results/sweep.jsonl docs/screen_pop_sweep.png
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

BUDGET_MS = 50.0


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip().startswith("{")]


def series(lines: list[dict[str, Any]]) -> dict[tuple[str, int, int], list[dict[str, Any]]]:
    out: dict[tuple[str, int, int], list[dict[str, Any]]] = defaultdict(list)
    for x in lines:
        if x.get("mode") in ("relay", "redis"):
            out[(x["mode"], x["server_processes"], x["operators"])].append(x)
    for points in out.values():
        points.sort(key=lambda x: x["calls_per_s"])
    return out


def plot(lines: list[dict[str, Any]], png: Path) -> None:
    fig, (lat, cpu) = plt.subplots(1, 2, figsize=(13, 5.2))
    colours = {500: "tab:blue", 2000: "tab:orange", 5000: "tab:red"}
    marks = {1: "o", 2: "s", 3: "^"}
    for (mode, nodes, ops), pts in sorted(series(lines).items()):
        x = [p["calls_per_s"] for p in pts]
        colour = colours.get(ops, "grey")
        if mode == "relay":
            lat.plot(x, [p["p99_ms"] for p in pts], "--", color=colour, alpha=0.6, label=f"relay, {ops} ops")
            continue
        label = f"{ops} operators, {nodes} node{'s' if nodes > 1 else ''}"
        lat.plot(x, [p["p99_ms"] for p in pts], marker=marks.get(nodes, "x"), color=colour, label=label)
        total = [p["server_cpu_total_pct"] + p.get("redis_cpu_pct", 0) for p in pts]
        cpu.plot(x, total, marker=marks.get(nodes, "x"), color=colour, label=label)
        machine = [p.get("machine_cpu_pct", 0) for p in pts]
        cpu.plot(x, machine, ":", marker=marks.get(nodes, "x"), color=colour, alpha=0.5)
        for p, y in zip(pts, [p["p99_ms"] for p in pts], strict=True):
            if p["lost_pops"]:
                lat.annotate(f"{p['lost_pops']} lost", (p["calls_per_s"], y), fontsize=7, color=colour)
    lat.axhspan(0, BUDGET_MS, color="tab:green", alpha=0.08, label="budget: p99 ≤ 50 ms")
    lat.set(xlabel="calls per second", ylabel="p99 ring → card (ms)", yscale="log", title="Screen-pop p99")
    cpu.axhline(200, color="black", lw=0.8, ls=":", label="the machine: 2 cores")
    cpu.set(
        xlabel="calls per second",
        ylabel="CPU (% of one core)",
        title="Servers + Redis CPU per point (dotted: the whole machine)",
    )
    loads = sorted(x["load_avg_1m"] for x in lines if "load_avg_1m" in x)
    if loads:
        fig.suptitle(f"benchmarks/screen_pop.py --sweep · load average {loads[0]:.1f}–{loads[-1]:.1f}")
    for ax in (lat, cpu):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)


def ceilings(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What ``screen_pop.py --sweep`` prints at its end, for a sweep that was cut short."""
    out = []
    for (mode, nodes, ops), pts in sorted(series(lines).items()):
        if mode == "redis":
            held = [p["calls_per_s"] for p in pts if p["p99_ms"] <= BUDGET_MS and not p["lost_pops"]]
            out.append(
                {"nodes": nodes, "operators": ops, "max_calls_per_s_within_budget": max(held, default=0)}
            )
    return out


def table(lines: list[dict[str, Any]]) -> str:
    """The sweep as a Markdown table (what README shows beside the chart)."""
    rows = [
        "| nodes | operators | calls/s asked (started) | pops | p99 | relay p99 | ratio | lost | server CPU | "
        "Redis / simulator CPU | machine CPU | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for x in sorted(
        (x for x in lines if x.get("mode") == "redis"),
        key=lambda x: (x["operators"], x["server_processes"], x["calls_per_s"]),
    ):
        rows.append(
            f"| {x['server_processes']} | {x['operators']} | {x['calls_per_s']:g} ({x.get('calls_per_s_started', 0):g}) "
            f"| {x['pops']} | {x['p99_ms']:.0f} ms | {x.get('relay_p99_ms', 0):.0f} ms | {x.get('ratio_p99')} "
            f"| {x['lost_pops']} | {x['server_cpu_pct']} % | {x.get('redis_cpu_pct', 0)} / "
            f"{x.get('simulator_cpu_pct', 0)} % | {x.get('machine_cpu_pct', 0)} % | {x['load_avg_1m']} |"
        )
    ceil = [x for x in lines if x.get("mode") == "ceiling"] or ceilings(lines)
    if ceil:
        rows.append("")
        rows.append("| nodes | operators | highest calls/s within budget (p99 ≤ 50 ms, 0 lost) |")
        rows.append("|---|---|---|")
        for c in ceil:
            rows.append(
                f"| {c['nodes']} | {c['operators']} | {c['max_calls_per_s_within_budget'] or 'none'} |"
            )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("jsonl", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--table", action="store_true", help="also print the Markdown table")
    args = parser.parse_args()
    lines = load(args.jsonl)
    plot(lines, args.png)
    if args.table:
        print(table(lines))
    print(args.png)


if __name__ == "__main__":
    main()
