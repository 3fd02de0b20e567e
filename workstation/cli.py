"""``workstation`` console command: the core subcommands (serve, demo, db, users, billing) and each
feature's (``Feature.register_commands``). A handler returns an exit code. Errors are one line, exit code
non-zero.
"""

from __future__ import annotations

import argparse
import logging
import sys

from workstation.bootstrap import all_features
from workstation.commands import billing, core
from workstation.errors import USER_ERRORS, CliError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workstation", description="Contact-center operator workstation")
    sub = parser.add_subparsers(dest="command", required=True)
    core.register(sub)
    billing.register(sub)
    for feature in all_features():
        feature.register_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from workstation.settings import SettingsError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # the one place a failure becomes a line: what to fix, exit code 2 (no traceback)
        if not isinstance(exc, (SettingsError, CliError, *USER_ERRORS)):
            raise
        print(f"workstation: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
