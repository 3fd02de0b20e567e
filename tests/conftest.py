"""Shared fixtures: real PostgreSQL and Redis, each test session isolated.

Every pytest session creates its own PostgreSQL database (dropped at the end) and its own Redis key /
channel prefix, so several runs (developers, CI) can share the machine's servers without seeing each
other. ``make test`` starts the servers when they are not running; a test that needs one and cannot
reach it fails (it is never skipped).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MARIADB_HOST = os.environ.get("TEST_MARIADB_HOST", "127.0.0.1")
# apps under test train sparse-only models: encoding the bootstrap corpus for the sentence-embedding
# stage takes minutes of CPU; that stage has its own tests (tests/unit/test_classifier_refined.py)
os.environ.setdefault("WORKSTATION_CLASSIFIER_EMBEDDINGS", "0")
_SHARED_TRACES = Path(__file__).resolve().parents[2] / "shared" / "ami-traces"
# the real Asterisk captures: shared/ beside the checkout, else the copies shipped in telephony/traces
TRACES_DIR = Path(
    os.environ.get("AMI_TRACES_DIR")
    or (
        _SHARED_TRACES
        if _SHARED_TRACES.is_dir()
        else Path(__file__).resolve().parents[1] / "telephony" / "traces"
    )
)
RUN_ID = uuid.uuid4().hex[:8]
# every log line of the run is searched for the demo billings' personal data at the end (see the module)
pytest_plugins = ["tests.pii_guard"]


def _pg_admin_engine():  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """Admin URL of the real PostgreSQL (fails loudly if it is not reachable)."""
    from sqlalchemy import text

    eng = _pg_admin_engine()
    with eng.connect() as c:
        c.execute(text("select 1"))
    eng.dispose()
    return PG_ADMIN_URL


def make_pg_database(name_hint: str) -> str:
    """Create a fresh PostgreSQL database for this run; returns its SQLAlchemy URL."""
    from sqlalchemy import text

    name = f"t_{name_hint}_{RUN_ID}_{uuid.uuid4().hex[:6]}"
    eng = _pg_admin_engine()
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    from sqlalchemy import text

    name = url.rsplit("/", 1)[1]
    eng = _pg_admin_engine()
    with eng.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    eng.dispose()


@pytest.fixture(scope="session")
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session."""
    url = make_pg_database("ws")
    yield url
    drop_pg_database(url)


@pytest.fixture
def redis_url() -> str:
    import redis

    r = redis.Redis.from_url(REDIS_URL)
    r.ping()
    r.close()
    return REDIS_URL


@pytest.fixture
def redis_prefix() -> str:
    """A key/channel prefix of this test alone."""
    return f"t{RUN_ID}{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def traces_dir() -> Path:
    assert TRACES_DIR.is_dir(), f"AMI traces not found at {TRACES_DIR} (set AMI_TRACES_DIR)"
    return TRACES_DIR


@contextmanager
def emptied(url: str, tables: Iterable[str]) -> Iterator[Any]:
    """The ``Database`` at ``url`` with ``tables`` emptied first (name children before parents); disposed
    after the block."""
    from sqlalchemy import text

    from workstation.db import Database

    database = Database(url)
    with database.session() as s:
        for table in tables:
            s.execute(text(f"DELETE FROM {table}"))
    try:
        yield database
    finally:
        database.dispose()


def migrated_database(request: pytest.FixtureRequest, tmp_path_factory: Any, hint: str) -> Iterator[str]:
    """Body of a fixture parametrised ``["sqlite", "postgresql"]``: a migrated database URL of that kind."""
    from workstation.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp(hint) / 'ws.db'}"
        upgrade(url)
        yield url
    else:
        request.getfixturevalue("pg_server_url")
        url = make_pg_database(hint)
        upgrade(url)
        yield url
        drop_pg_database(url)


def migrated_db(request: pytest.FixtureRequest, tmp_path_factory: Any, hint: str) -> Iterator[Any]:
    """Body of a fixture parametrised ``["sqlite", "postgresql"]``: a ``Database`` on a migrated database."""
    from workstation.db import Database

    for url in migrated_database(request, tmp_path_factory, hint):
        database = Database(url)
        yield database
        database.dispose()
