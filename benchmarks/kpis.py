"""Contact-center figures: live board latency under load, report times over 1M stored calls, exactness.

1. **Board.** Two server processes (``workstation.kpis`` on, Redis bus, PostgreSQL), the AMI simulator here
   over TCP playing the real Asterisk traces at R calls/s, 500 operators and 50 supervisors connected by
   websocket (split over both processes; the supervisors' sockets in a client process of their own). For the k-th ``QueueCallerJoin`` the simulator sends, the latency
   is the time until each supervisor's board first shows ``today.offered`` ≥ k (AMI event → websocket
   frame); ``board_p50_ms`` / ``board_p99_ms`` over every (call, supervisor).
2. **Reports.** A PostgreSQL database with N stored calls (default 1M over 14 days, five queues with their
   own thresholds, 500 operators, request records, the operators' state log) written with ``COPY``; the
   day report (by hour, per queue), the week report (by day, per queue) and the week report per operator
   (first-contact resolution and occupancy) are timed, cold then warm (median of 3).
3. **Exactness.** ``max_abs_error``: the largest absolute difference between a report figure and the same
   figure computed here with numpy from the generated arrays (never through the app's code), and between
   the board's final counts and the simulator's schedule.

    python benchmarks/kpis.py            # 1M calls, 20 s of calls at 20/s
    python benchmarks/kpis.py --quick    # 200k calls, 6 s of calls (< 4 min)

The board is ``kpis_board.py``, the reports ``kpis_reports.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kpis_board import board_latency  # noqa: E402
from kpis_reports import reports_bench  # noqa: E402
from screen_pop_deploy import log  # noqa: E402


async def main_async(args: argparse.Namespace) -> None:
    board: dict[str, Any] = {}
    rep: dict[str, Any] = {"errors": {}}
    if args.only != "reports":
        with tempfile.TemporaryDirectory(prefix="kpis_bench_") as d:
            board = await board_latency(args, Path(d))
        log(f"board: {json.dumps(board)}")
    if args.only != "board":
        rep = await asyncio.to_thread(reports_bench, args)
    errors = dict(rep.pop("errors"))
    if board:
        errors["board_offered"] = float(board["board_offered_error"])
    out = {
        **board,
        **rep,
        "errors": errors,
        "max_abs_error": max(errors.values()),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(out), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operators", type=int, default=500)
    parser.add_argument("--supervisors", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20.0, help="calls per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of calls")
    parser.add_argument("--calls", type=int, default=1_000_000, help="stored calls for the reports")
    parser.add_argument("--days", type=int, default=14, help="days the stored calls span")
    parser.add_argument("--quick", action="store_true", help="200k stored calls, 6 s of calls")
    parser.add_argument("--only", choices=["board", "reports"], help="run one part")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.calls = min(args.duration, 6.0), min(args.calls, 200_000)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
