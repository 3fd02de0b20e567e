"""How soon after an Asterisk restart the workstation is back: the AMI link, and every break and after-call
work pause re-applied (static members come back unpaused), side by side with the previous policy.

The simulator plays the restart over real TCP: ``Shutdown``, sockets closed, the port refusing connections
for ``--down`` seconds, then back with every member unpaused. Before it, the link was dropped ``--drops``
times in quick succession (several short sessions, as during a flapping network or a slow restart).

* ``current``: back-off 0.5 s doubling to 5 s, reset after every good login; pauses re-applied at login.
* ``previous``: back-off 0.5 s doubling to 30 s, reset only after a session of 30 s (the code before
  issue 11); its pause re-application is the current one, so only the reconnect differs.

    python benchmarks/ami_restart.py            # 3 runs each, 10 s down, 5 drops, 20 paused operators
    python benchmarks/ami_restart.py --quick    # 1 run each, 2 s down

Prints one JSON object: per policy, seconds from "Asterisk accepts connections again" to the link being up
and to every pause being held again (median and max over the runs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telephony.ami import AmiTelephony
from telephony.events import CallEvent, TelephonyLink
from telephony.simulator import AmiSimulator

USER, SECRET = "bench", "bench-secret"


class PreviousPolicy(AmiTelephony):
    """The reconnect policy before issue 11: no reset on a good login, up to 30 s between attempts."""

    def _logged_in_ok(self) -> None:
        return None


async def one_run(
    policy: type[AmiTelephony], backoff_max: float, down: float, drops: int, operators: int
) -> dict[str, float]:
    sim = AmiSimulator(USER, SECRET)
    await sim.start("127.0.0.1", 0)
    agents = [f"PJSIP/{3000 + n}" for n in range(operators)]
    for iface in agents:
        sim.state.add_member("support", iface, iface)
    ups: list[float] = []

    async def handler(ev: CallEvent) -> None:
        if isinstance(ev, TelephonyLink) and ev.up:
            ups.append(time.monotonic())

    tel = policy("127.0.0.1", sim.port, USER, SECRET, backoff_max=backoff_max)
    await tel.start(handler)
    try:
        await asyncio.wait_for(tel.logged_in.wait(), 10)
        for iface in agents:
            await tel.pause(iface, True, "Break")
        for n in range(drops):  # short sessions: each drop comes right after a login
            sim.drop_connections()
            while len(ups) < n + 2:
                await asyncio.sleep(0.005)
        before = len(ups)
        await sim.restart_for(down)
        back = time.monotonic()
        while len(ups) <= before:
            await asyncio.sleep(0.005)
        link = ups[-1] - back
        while sim.paused_agents() != set(agents):
            await asyncio.sleep(0.005)
        return {"link_s": link, "paused_s": time.monotonic() - back}
    finally:
        await tel.stop()
        await sim.stop()


async def main(runs: int, down: float, drops: int, operators: int) -> dict[str, object]:
    out: dict[str, object] = {
        "down_s": down,
        "drops_before": drops,
        "paused_operators": operators,
        "runs": runs,
    }
    for name, policy, cap in (("previous", PreviousPolicy, 30.0), ("current", AmiTelephony, 5.0)):
        results = [await one_run(policy, cap, down, drops, operators) for _ in range(runs)]
        out[name] = {
            key: {
                "median": round(statistics.median(r[key] for r in results), 2),
                "max": round(max(r[key] for r in results), 2),
            }
            for key in ("link_s", "paused_s")
        }
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 run each, 2 s down")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--down", type=float, default=10.0, help="seconds Asterisk refuses connections")
    parser.add_argument("--drops", type=int, default=5)
    parser.add_argument("--operators", type=int, default=20)
    a = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the reconnect warnings are expected here
    runs, down = (1, 2.0) if a.quick else (a.runs, a.down)
    print(json.dumps(asyncio.run(main(runs, down, a.drops, a.operators)), indent=1))
