"""``workstation export-segments --from 2026-01 --to 2026-06 --k 5 --out DIR``: a depersonalised
segmentation export from billing, with a progress bar. Recorded in the workstation DB and the audit log."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from workstation.errors import CliError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "export-segments",
        help="depersonalised billing aggregates + segments as Parquet/CSV with a privacy report (152-FZ)",
    )
    p.add_argument("--from", dest="month_from", required=True, metavar="YYYY-MM")
    p.add_argument("--to", dest="month_to", required=True, metavar="YYYY-MM")
    p.add_argument("--k", type=int, default=5, help="k-anonymity over the quasi-identifiers (default 5)")
    p.add_argument("--out", type=Path, required=True, help="directory for the export bundle")
    p.add_argument(
        "--attributes",
        help="comma-separated quasi-identifiers to include (default: all of "
        "age_band,sex,region,tariff,tenure_band,device_class)",
    )
    p.add_argument("--reason", default="segmentation export (CLI)", help="why: written to the audit log")
    p.add_argument(
        "--user", metavar="LOGIN", help="who exports (a workstation user, written to the audit log; required)"
    )
    p.add_argument("--recipient", default="marketing", help="who receives the bundle (the release ledger)")
    p.add_argument("--chunk", type=int, default=50_000, help="subscribers per billing batch")
    p.add_argument(
        "--synthetic", type=int, metavar="N", help="use N generated subscribers instead of billing"
    )
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(handler=cmd_export_segments)


def cmd_export_segments(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from anonymizer.source import BatchSource
    from workstation.db import Database
    from workstation.segments.service import ExportService
    from workstation.settings import load_settings

    settings = load_settings()
    db = Database(settings.resolved_database_url())
    closers: list[Any] = []

    def source() -> BatchSource:
        if args.synthetic:
            from anonymizer.synthetic import SyntheticBilling

            return SyntheticBilling(args.synthetic, month_to=args.month_to).source()
        from anonymizer.source import BillingBatchSource
        from workstation.adapters import make_billing_source

        billing = make_billing_source(settings)
        closers.append(billing)
        return BillingBatchSource(billing)

    service = ExportService(db, settings, source_factory=source)
    service.exports_dir = args.out
    attributes = [a.strip() for a in args.attributes.split(",") if a.strip()] if args.attributes else None
    bar: Any = None

    def progress(fraction: float, stage: str) -> None:
        bar.set_description(stage)
        bar.update(max(0, round(fraction * 100) - bar.n))

    try:
        _check_tables(db)
        user_id = _named_user(db, args.user)
        req = service.prepare(user_id, args.month_from, args.month_to, args.k, attributes, args.recipient)
        bar = tqdm(total=100, unit="%", desc="export", disable=args.no_progress, file=sys.stderr)
        summary = service.run(req, user_id, args.reason, progress)
    finally:
        if bar is not None:
            bar.close()
        for c in closers:
            _close(c)
        db.dispose()
    privacy = summary["privacy"]
    print(
        json.dumps(
            {
                "export": str(args.out / req.export_id),
                "rows": summary["rows"],
                "k_achieved": privacy["k_achieved"],
                "l_diversity": privacy["l_diversity_arpu_band"],
                "suppressed_share": privacy["suppressed_share"],
                "broken_rows": summary["billing_read"]["broken_rows"],
                "key_id": summary["key_id"],
            },
            ensure_ascii=False,
        )
    )
    if privacy["suppression_over_target"]:
        print(
            f"note: {privacy['rows_suppressed']} rows suppressed to keep k={privacy['k_requested']} "
            "(more than the target share)",
            file=sys.stderr,
        )
    return 0


def _named_user(db: Any, login: str | None) -> int:
    """The id of the active user ``login``: an export without a named person behind it is refused."""
    from sqlalchemy import select

    from workstation.models import User

    if not login:
        raise CliError("name who exports: --user LOGIN (a workstation user; it goes into the audit log)")
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == login, User.active.is_(True)))
        if user is None:
            raise CliError(f"no active workstation user {login!r}: create one or name another with --user")
        return int(user.id)


def _check_tables(db: Any) -> None:
    from sqlalchemy import inspect

    if not inspect(db.engine).has_table("segment_exports"):
        raise CliError("the workstation database is not set up: run `workstation db upgrade` first")


def _close(billing: Any) -> None:
    import asyncio
    import contextlib

    with contextlib.suppress(Exception):  # closing a read-only pool: nothing to lose
        asyncio.run(billing.close())
