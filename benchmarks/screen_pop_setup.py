"""Set-up for ``screen_pop.py``: demo billing, databases, operators, sessions, server processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_billing(tmp: Path, subscribers: int) -> tuple[Path, list[str]]:
    from billing_adapter.demo import DemoSpec, generate_sqlite

    path = tmp / "billing.db"
    generate_sqlite(path, DemoSpec(subscribers=subscribers))
    con = sqlite3.connect(path)
    numbers = [f"+{r[0]}" for r in con.execute("SELECT msisdn FROM msisdns WHERE is_primary = 1 LIMIT 2000")]
    con.close()
    return path, numbers


def create_pg_database() -> str:
    from sqlalchemy import create_engine, text

    name = f"bench_pop_{uuid.uuid4().hex[:8]}"
    eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    eng.dispose()


_MIGRATE = threading.Lock()
BENCH_PASSWORD = "bench-password-1"


def add_operators(db_url: str, n: int, others: tuple[str, ...] = ()) -> list[tuple[int, str, str]]:
    """N operators sharing one password hash, and one user per entry of ``others`` (a role:
    ``supervisor``, ``analyst``…, named after it, a second of the same role ``supervisor2``, password
    ``BENCH_PASSWORD``); returns (user id, interface or user name, session token)."""
    from sqlalchemy import insert, select

    from workstation.auth import hash_password
    from workstation.db import Database
    from workstation.migrate import upgrade
    from workstation.models import User

    with _MIGRATE:  # Alembic's environment is process-global: one migration at a time
        upgrade(db_url)
    db = Database(db_url)
    pw_hash = hash_password(secrets.token_urlsafe(12))
    rows = [
        dict(
            username=f"bench{i}",
            display_name=f"Bench {i}",
            password_hash=pw_hash,
            role="operator",
            interface=f"PJSIP/{20000 + i}",
            extension=str(20000 + i),
            presence="ready",
            skills=[],
            language="ru",
            active=True,
        )
        for i in range(n)
    ]
    other_hash = hash_password(BENCH_PASSWORD) if others else ""
    names = [
        role if others[:i].count(role) == 0 else f"{role}{others[:i].count(role) + 1}"
        for i, role in enumerate(others)
    ]
    rows += [
        dict(
            username=name,
            display_name=role.title(),
            password_hash=other_hash,
            role=role,
            presence="offline",
            skills=[],
            language="en",
            active=True,
        )
        for name, role in zip(names, others, strict=True)
    ]
    with db.session() as s:
        s.execute(insert(User), rows)
    from workstation.sessions import open_sessions

    with db.session() as s:
        users = [
            (r.id, r.interface or r.username)
            for r in s.execute(select(User.id, User.interface, User.username)).all()
        ]
    # a server-side session each, as a sign-in opens (the cookie carries its token)
    tokens = open_sessions(db, [uid for uid, _ in users], 12 * 3600)
    out = [(uid, who, token) for (uid, who), token in zip(users, tokens, strict=True)]
    db.dispose()
    return out


@dataclass
class Server:
    port: int
    proc: subprocess.Popen[bytes]
    max_rss: float = 0.0

    def sample(self) -> None:
        with contextlib.suppress(psutil.Error):
            rss = psutil.Process(self.proc.pid).memory_info().rss / 2**20
            self.max_rss = max(self.max_rss, rss)


CORE_APP = """
import sys, uvicorn
from workstation.app import create_app
from workstation.bootstrap import bootstrap
container = bootstrap(features=[])
from workstation.commands.core import uvicorn_options
uvicorn.run(create_app(container), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            **uvicorn_options(container.settings))
"""


def start_server(env: dict[str, str], tmp: Path, name: str, app: str) -> Server:
    """``full``: ``workstation serve`` with every feature; ``core``: the screen-pop path only (no topic
    model training, SLA schedulers… at start-up), for short runs; ``relay``: the bare relay
    (``pop_relay.py``; ``env`` carries ``RELAY_AMI_PORT``); anything else: that Python program (it gets the
    port as ``sys.argv[1]``)."""
    port = free_port()
    log = (tmp / f"{name}.log").open("wb")
    cmd = (
        ["-m", "workstation.cli", "serve", "--port"]
        if app == "full"
        else ["-c", CORE_APP if app == "core" else app]
    )
    if app == "relay":
        cmd = [str(ROOT / "benchmarks" / "pop_relay.py")]
    elif os.environ.get("POP_APP_SCRIPT"):  # a diagnostic wrapper around the app (profilers, GC log)
        cmd = [os.environ["POP_APP_SCRIPT"]]
    proc = subprocess.Popen(
        [
            sys.executable,
            *cmd,
            str(port),
            *([env["RELAY_AMI_PORT"], env["RELAY_AMI_USER"]] if app == "relay" else []),
        ],
        cwd=env.get("SCREEN_POP_SERVER_ROOT") or ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return Server(port, proc)


async def wait_healthy(server: Server, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                raise RuntimeError(f"server on {server.port} exited with {server.proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://127.0.0.1:{server.port}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"server on {server.port} not healthy in {deadline_s}s")


async def wait_idle(servers: list[Server], deadline_s: float = 60.0, below_pct: float = 15.0) -> None:
    """Until every server spends under ``below_pct`` of a core over half a second: start-up work (e.g. the
    first topic model being trained) must not run during the measurement."""
    procs = [psutil.Process(s.proc.pid) for s in servers]
    for p in procs:
        p.cpu_percent(None)
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        if all(p.cpu_percent(None) < below_pct for p in procs):
            return


async def sample_rss(servers: list[Server], stop: asyncio.Event) -> None:
    while not stop.is_set():
        for s in servers:
            s.sample()
        await asyncio.sleep(0.25)
