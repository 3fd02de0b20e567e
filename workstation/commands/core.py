"""Core subcommands: serve, demo, db upgrade, users add."""

from __future__ import annotations

import argparse
import logging
import secrets
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from workstation.errors import CliError

log = logging.getLogger(__name__)

DEMO_PASSWORD = "demo1234"
DEMO_USERS: list[dict[str, Any]] = [
    {
        "username": "op1",
        "role": "operator",
        "display_name": "Анна Смирнова",
        "interface": "Local/1001@agents/n",
        "extension": "1001",
    },
    {
        "username": "op2",
        "role": "operator",
        "display_name": "Игорь Петров",
        "interface": "Local/1002@agents/n",
        "extension": "1002",
    },
    {
        "username": "op3",
        "role": "operator",
        "display_name": "Мария Волкова",
        "interface": "Local/1003@agents/n",
        "extension": "1003",
    },
    {
        "username": "tech1",
        "role": "tech_support",
        "display_name": "Олег Кузнецов",
        "skills": ["mobile_data", "no_network", "sms_problem", "roaming", "device_settings"],
        "group": "network",
    },
    {
        "username": "tech2",
        "role": "tech_support",
        "display_name": "Elena Orlova",
        "skills": ["number_porting", "sim_replacement", "billing_dispute"],
        "group": "services",
    },
    {"username": "sup", "role": "supervisor", "display_name": "Светлана Иванова"},
    {"username": "analyst", "role": "analyst", "display_name": "Дмитрий Соколов"},
    {"username": "marketing", "role": "marketing", "display_name": "Ксения Морозова"},
    {"username": "admin", "role": "admin", "display_name": "Администратор"},
]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("serve", help="run the workstation (settings from WORKSTATION_* env)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("demo", help="embedded demo: demo billing, demo users, simulated calls, UI on :8000")
    p.add_argument("--subscribers", type=int, default=10_000)
    p.add_argument("--port", type=int)
    p.add_argument("--no-serve", action="store_true", help="prepare the data and exit")
    p.set_defaults(handler=cmd_demo)

    db = sub.add_parser("db", help="workstation database")
    dbs = db.add_subparsers(dest="db_command", required=True)
    p = dbs.add_parser("upgrade", help="apply Alembic migrations")
    p.set_defaults(handler=cmd_db_upgrade)

    users = sub.add_parser("users", help="users and roles")
    us = users.add_subparsers(dest="users_command", required=True)
    p = us.add_parser("add", help="add a user (password from --password or prompt)")
    p.add_argument("username")
    p.add_argument("--role", required=True)
    p.add_argument("--name")
    p.add_argument("--password")
    p.add_argument("--interface", help="Asterisk queue member interface, e.g. PJSIP/1001")
    p.add_argument("--extension")
    p.set_defaults(handler=cmd_users_add)
    p = us.add_parser("deactivate", help="take a user off: no sign-in, every session ended")
    p.add_argument("username")
    p.set_defaults(handler=cmd_users_deactivate)
    p = us.add_parser("passwd", help="set a user's password (prompted); every session of the user ends")
    p.add_argument("username")
    p.set_defaults(handler=cmd_users_passwd)


def cmd_users_deactivate(args: argparse.Namespace) -> int:
    from workstation import sessions
    from workstation.db import Database
    from workstation.errors import DomainError
    from workstation.settings import load_settings

    db = Database(load_settings().resolved_database_url())
    try:
        sessions.deactivate(db, args.username)
    except DomainError as exc:
        raise CliError(exc.message) from None
    print(f"user {args.username} deactivated, sessions ended")
    return 0


def cmd_users_passwd(args: argparse.Namespace) -> int:
    import getpass

    from sqlalchemy import select

    from workstation import sessions
    from workstation.db import Database
    from workstation.errors import DomainError
    from workstation.models import User
    from workstation.settings import load_settings

    db = Database(load_settings().resolved_database_url())
    with db.session() as s:
        uid = s.scalar(select(User.id).where(User.username == args.username))
    if uid is None:
        raise CliError(f"no user {args.username!r}")
    try:
        sessions.set_password(db, uid, getpass.getpass("new password: "))
    except DomainError as exc:
        raise CliError(exc.message) from None
    print(f"password of {args.username} changed, sessions ended")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from workstation.migrate import upgrade
    from workstation.settings import load_settings

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url())
    print("database is up to date")
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    import getpass

    from workstation.auth import create_user
    from workstation.db import Database
    from workstation.settings import load_settings

    settings = load_settings()
    password = args.password or getpass.getpass("password: ")
    db = Database(settings.resolved_database_url())
    create_user(  # a DomainError (bad role, taken name) is one line from workstation.cli.main
        db,
        args.username,
        password,
        args.role,
        display_name=args.name,
        interface=args.interface,
        extension=args.extension,
    )
    print(f"user {args.username} added")
    return 0


def uvicorn_options(settings: Any) -> dict[str, Any]:
    """How ``serve`` runs uvicorn (the benchmarks' servers and the tests' served app run it the same)."""
    return {
        "ws_max_size": 64 * 1024,
        "ws_per_message_deflate": settings.ws_compression,
        "access_log": False,  # uvicorn's would print query strings (searched names, numbers)
    }


def _serve(container: Any, host: str, port: int) -> None:
    import uvicorn

    from workstation.app import create_app

    uvicorn.run(
        create_app(container), host=host, port=port, log_level="info", **uvicorn_options(container.settings)
    )


def cmd_serve(args: argparse.Namespace) -> int:
    from workstation.bootstrap import bootstrap
    from workstation.migrate import upgrade
    from workstation.settings import load_settings

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url())
    container = bootstrap(settings)
    _serve(container, args.host or settings.host, args.port or settings.port)
    return 0


def ensure_demo_users(db: Any) -> None:
    from sqlalchemy import select

    from workstation.auth import create_user
    from workstation.models import User

    with db.session() as s:
        existing = set(s.scalars(select(User.username)).all())
    for u in DEMO_USERS:
        if u["username"] in existing:
            continue
        create_user(
            db,
            u["username"],
            DEMO_PASSWORD,
            u["role"],
            display_name=u["display_name"],
            interface=u.get("interface"),
            extension=u.get("extension"),
            skills=u.get("skills"),
            group=u.get("group"),
        )


def _demo_secret(path: Path) -> str:
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def prepare_demo(subscribers: int = 10_000) -> Any:
    """Embedded defaults: migrate, demo billing, demo users, feature seed data; returns the container."""
    from workstation.bootstrap import bootstrap
    from workstation.migrate import upgrade
    from workstation.settings import load_settings

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.pseudonym_key is None:
        # embedded demo only: a pseudonymisation key generated once and kept beside the data (0600);
        # production passes WORKSTATION_PSEUDONYM_KEY from its secret store
        settings.pseudonym_key = SecretStr(_demo_secret(settings.data_dir / "pseudonym.key"))
    billing_path = settings.data_dir / "demo_billing.db"
    if not settings.billing_url and not billing_path.exists():
        from billing_adapter import demo

        print(f"generating demo billing: {subscribers} subscribers → {billing_path}")
        demo.generate_sqlite(billing_path, demo.DemoSpec(subscribers=subscribers))
    upgrade(settings.resolved_database_url())
    container = bootstrap(settings)
    ensure_demo_users(container.db)
    for feature in container.features:
        feature.seed(container)
    from telephony.simulated import SimulatedTelephony

    tel = container.telephony
    if isinstance(tel, SimulatedTelephony):  # sim:// — the demo's generated calls
        import numpy as np

        from billing_adapter import demo

        # demo numbers are a function of the subscriber id; a few unknown numbers and withheld IDs too
        ids = np.random.default_rng(7).choice(
            np.arange(1, subscribers + 1), size=min(500, subscribers), replace=False
        )
        callers = ["+" + str(n) for n in demo.msisdn_of(ids)] + ["+79990000001", "+79990000002", "anonymous"]
        agents = [(u["interface"], u["display_name"]) for u in DEMO_USERS if u.get("interface")]
        tel.set_population(callers, agents, signed_out=True)
    return container


def cmd_demo(args: argparse.Namespace) -> int:
    container = prepare_demo(args.subscribers)
    if args.no_serve:
        return 0
    s = container.settings
    port = args.port or s.port
    print()
    print(f"  Workstation demo on http://{s.host}:{port}/")
    print(f"  Sign in with password {DEMO_PASSWORD!r} as:")
    for u in DEMO_USERS:
        ext = f", extension {u['extension']}" if u.get("extension") else ""
        print(f"    {u['username']:<10} {u['role']}{ext}")
    print("  Simulated calls ring operators op1, op2, op3: sign in as one of them and set yourself Ready.")
    print()
    _serve(container, s.host, port)
    return 0
