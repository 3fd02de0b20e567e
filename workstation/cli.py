"""``workstation`` console command. Each feature adds its subcommands through a module in COMMAND_MODULES
exposing ``register(subparsers)``; a handler returns an exit code. Errors are one line, exit code non-zero.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# modules exposing register(subparsers: argparse._SubParsersAction) -> None
COMMAND_MODULES = [
    "workstation.commands.core",
    "workstation.commands.billing",
    "workstation.commands.classifier",
    "workstation.commands.kb",
    "workstation.commands.segments",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workstation", description="Contact-center operator workstation")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # feature not installed in this build
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from workstation.settings import SettingsError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except SettingsError as exc:
        print(f"workstation: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except CliError as exc:
        print(f"workstation: {exc}", file=sys.stderr)
        return 2


class CliError(Exception):
    """One line telling the user what to fix."""


if __name__ == "__main__":
    sys.exit(main())
