"""A stand-alone simulated Asterisk, for pointing a workstation at it as if it were a real PBX.

    AMI_SIM_SECRET=s3cret python -m telephony --port 5038 --rate 0.2 \\
        --agent 'Local/1001@agents/n=Анна Смирнова' --caller +79161234567
    WORKSTATION_AMI_URL=ami://ccw@127.0.0.1:5038 WORKSTATION_AMI_SECRET=s3cret workstation serve
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from telephony.simulator import AmiSimulator


def _agent(text: str) -> tuple[str, str]:
    iface, _, name = text.partition("=")
    return iface, name or iface


async def _run(args: argparse.Namespace, secret: str) -> None:
    sim = AmiSimulator(args.user, secret, write=args.write)
    port = await sim.start(args.host, args.port)
    print(f"simulated Asterisk AMI on {args.host}:{port} (user {args.user})", flush=True)
    agents = [_agent(a) for a in args.agent]
    for iface, name in agents:
        sim.state.add_member("support", iface, name)
    if args.rate > 0:
        await sim.run_calls(args.rate, args.caller, agents, speed=args.speed, wait=False)
    else:
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m telephony", description="simulated Asterisk AMI")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5038)
    parser.add_argument("--user", default="ccw")
    parser.add_argument("--rate", type=float, default=0.0, help="generated calls per second (0: none)")
    parser.add_argument("--speed", type=float, default=1.0, help="play the captured calls faster (>1)")
    parser.add_argument("--agent", action="append", default=[], help="interface[=name], repeatable")
    parser.add_argument("--caller", action="append", default=[], help="caller number, repeatable")
    parser.add_argument(
        "--write",
        default="all",
        help="the AMI user's manager.conf write= classes, e.g. system,call,originate,reporting "
        "(QueuePause then answers 'Permission denied', as Asterisk does)",
    )
    args = parser.parse_args(argv)
    secret = os.environ.get("AMI_SIM_SECRET", "")
    if not secret:
        print(
            "python -m telephony: set AMI_SIM_SECRET (the secret clients must log in with)", file=sys.stderr
        )
        return 2
    if args.rate > 0 and (not args.agent or not args.caller):
        print("python -m telephony: --rate needs at least one --agent and one --caller", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(_run(args, secret))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
