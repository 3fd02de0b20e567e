"""``workstation billing generate | load | check``: the demo billing and the mapping check."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from workstation.errors import CliError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("billing", help="demo billing data and the billing mapping check")
    bsub = p.add_subparsers(dest="billing_command", required=True)

    g = bsub.add_parser("generate", help="generate a deterministic demo billing into SQLite")
    g.add_argument("--subscribers", type=int, default=10_000)
    g.add_argument("--out", type=Path, default=None, help="SQLite file (default: <data_dir>/demo_billing.db)")
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--schema", choices=["demo", "legacy"], default="demo")
    g.add_argument("--months", type=int, default=6)
    g.add_argument("--as-of", default=None, help="YYYY-MM: charges run up to the month before (default: now)")
    g.set_defaults(handler=_generate)

    ld = bsub.add_parser("load", help="copy a generated billing into PostgreSQL or MariaDB")
    ld.add_argument("--url", required=True, help="postgresql://user@host/db or mariadb://user@host/db")
    ld.add_argument(
        "--src", type=Path, default=None, help="SQLite file (default: <data_dir>/demo_billing.db)"
    )
    ld.set_defaults(handler=_load)

    c = bsub.add_parser("check", help="run every query of the configured mapping against the live billing")
    c.set_defaults(handler=_check)


def _default_db() -> Path:
    from workstation.settings import load_settings

    return load_settings().data_dir / "demo_billing.db"


def _generate(args: argparse.Namespace) -> int:
    from billing_adapter.demo import DemoSpec, generate_sqlite

    if args.subscribers < 1:
        raise CliError("--subscribers must be at least 1")
    spec = DemoSpec(subscribers=args.subscribers, seed=args.seed, months=args.months)
    if args.as_of:
        try:
            spec.as_of = date.fromisoformat(args.as_of + "-01")
        except ValueError:
            raise CliError(f"--as-of must be YYYY-MM, got {args.as_of!r}") from None
    out = args.out or _default_db()
    t0 = time.monotonic()
    counts = generate_sqlite(out, spec, args.schema)
    rows = ", ".join(f"{k} {v}" for k, v in counts.items())
    print(f"generated {args.schema} billing at {out} in {time.monotonic() - t0:.1f} s: {rows}")
    return 0


def _load(args: argparse.Namespace) -> int:
    from billing_adapter.demo_load import LoadError, load

    try:
        counts = load(args.src or _default_db(), args.url)
    except LoadError as exc:
        raise CliError(str(exc)) from None
    print("loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def _check(args: argparse.Namespace) -> int:
    from billing_adapter.check import check_source
    from billing_adapter.ports import BillingError
    from workstation.adapters import make_billing_source
    from workstation.settings import load_settings

    settings = load_settings()
    try:
        source = make_billing_source(settings)
    except BillingError as exc:
        raise CliError(str(exc)) from None
    results = check_source(source)
    for r in results:
        print(f"{'ok  ' if r.ok else 'FAIL'} {r.query}: {r.detail}")
    bad = [r for r in results if not r.ok]
    print(
        f"mapping {source.mapping.name} on {source.backend.describe()}: "
        f"{len(results) - len(bad)} ok, {len(bad)} failing",
        file=sys.stderr if bad else sys.stdout,
    )
    return 1 if bad else 0
