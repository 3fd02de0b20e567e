"""Which phase of a reconnect wave the slow pops fell in: joins ``screen_pop.py``'s ``POP_TRACE`` (one line
per pop: the simulator's send time and the latency) with ``POP_WAVE_TRACE`` (when each wave started
opening, was in, started and ended closing) and prints one JSON line per phase.

    rm -f /tmp/trace.txt /tmp/waves.txt
    POP_TRACE=/tmp/trace.txt POP_WAVE_TRACE=/tmp/waves.txt \\
        flock /tmp/bench.lock .venv/bin/python benchmarks/screen_pop.py --modes embedded --pressure reconnect
    .venv/bin/python benchmarks/wave_phases.py /tmp/trace.txt /tmp/waves.txt

Phases: ``opening`` (handshakes going on), ``in`` (every tab open, holding), ``closing`` (the wave's tabs
going, all at once), ``after`` (half a second after the close). Only pops sent while the waves ran count.
"""

from __future__ import annotations

import bisect
import json
import sys
from pathlib import Path

NAMES = {"open": "opening", "in": "in", "close": "closing", "closed": "between"}
AFTER_S = 0.5


def main(trace: str, waves: str) -> None:
    marks = [
        (float(at), phase) for at, phase in (line.split() for line in Path(waves).read_text().splitlines())
    ]
    times = [at for at, _ in marks]
    by_phase: dict[str, list[float]] = {}
    for line in Path(trace).read_text().splitlines():
        sent, ms = (float(x) for x in line.split()[:2])
        if ms < 0 or not times[0] <= sent <= times[-1]:
            continue  # lost, or outside the waves (the relay's line, the line without pressure)
        i = bisect.bisect_right(times, sent) - 1
        at, phase = marks[i]
        name = "after" if phase == "closed" and sent - at < AFTER_S else NAMES[phase]
        by_phase.setdefault(name, []).append(ms)
    for name, ms in by_phase.items():
        ms.sort()
        n = len(ms)
        print(
            json.dumps(
                {
                    "phase": name,
                    "pops": n,
                    "p50_ms": ms[n // 2],
                    "p99_ms": ms[min(n - 1, int(0.99 * n))],
                    "max_ms": ms[-1],
                    "over_50ms": sum(x > 50 for x in ms),
                }
            )
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
