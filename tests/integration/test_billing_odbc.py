"""The SAME mapping through real ODBC drivers: PostgreSQL via psqlODBC, MariaDB via its ODBC driver, SQLite
via its ODBC driver, for the demo and the legacy (kopecks, status codes) schemas. The fixtures here (one small
demo billing in each database, fresh per run) are shared with the other billing integration tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pyodbc
import pytest

from billing_adapter.dbapi import DbApiBilling
from billing_adapter.demo import DemoSpec, generate_sqlite
from billing_adapter.demo_load import load, mariadb_odbc_string
from billing_adapter.mapping import load_mapping
from billing_adapter.odbc import OdbcBackend
from billing_adapter.sqlite import SqliteBackend
from tests.conftest import MARIADB_HOST, RUN_ID, drop_pg_database, make_pg_database

SUBSCRIBERS = 400
SEED = 11
MAPPING_OF = {"demo": "demo", "legacy": "legacy_kopecks"}


@dataclass(frozen=True)
class Billing:
    """One live billing: which driver, which schema, its ODBC connection string."""

    name: str
    schema: str
    odbc: str

    @property
    def mapping(self) -> str:
        return MAPPING_OF[self.schema]


def pg_odbc_string(url: str) -> str:
    u = urlsplit(url.replace("postgresql+psycopg://", "postgresql://"))
    return (
        f"DRIVER={{PostgreSQL Unicode}};SERVER={u.hostname};PORT={u.port or 5432};"
        f"DATABASE={u.path.lstrip('/')};UID={u.username or 'postgres'}"
    )


def odbc_source(
    billing: Billing, *, timeout_s: float = 5.0, mapping: str | Path | None = None
) -> DbApiBilling:
    return DbApiBilling(
        OdbcBackend(billing.odbc, timeout_s),
        load_mapping(mapping or billing.mapping),
        pool_size=2,
        timeout_s=timeout_s,
    )


def reference_source(files: dict[str, Path]) -> DbApiBilling:
    return DbApiBilling(SqliteBackend(files["demo"]), load_mapping("demo"), pool_size=2, timeout_s=5)


@pytest.fixture(scope="session")
def billing_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("billing_odbc")
    spec = DemoSpec(subscribers=SUBSCRIBERS, seed=SEED)
    files = {schema: root / f"{schema}.db" for schema in ("demo", "legacy")}
    for schema, path in files.items():
        generate_sqlite(path, spec, schema)
    return files


@pytest.fixture(scope="session")
def pg_billings(pg_server_url: str, billing_files: dict[str, Path]) -> Iterator[dict[str, Billing]]:
    out, urls = {}, []
    for schema, path in billing_files.items():
        url = make_pg_database(f"billing_{schema}")
        urls.append(url)
        load(path, url)
        out[schema] = Billing(f"postgresql-{schema}", schema, pg_odbc_string(url))
    yield out
    for url in urls:
        drop_pg_database(url)


@pytest.fixture(scope="session")
def mariadb_billings(billing_files: dict[str, Path]) -> Iterator[dict[str, Billing]]:
    admin = pyodbc.connect(
        f"DRIVER={{MariaDB Unicode}};SERVER={MARIADB_HOST};PORT=3306;UID=root", autocommit=True
    )
    out, names = {}, []
    try:
        for schema, path in billing_files.items():
            name = f"t_billing_{schema}_{RUN_ID}_{uuid.uuid4().hex[:6]}"
            admin.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
            names.append(name)
            url = f"mariadb://root@{MARIADB_HOST}:3306/{name}"
            load(path, url)
            out[schema] = Billing(f"mariadb-{schema}", schema, mariadb_odbc_string(url))
        yield out
    finally:
        for name in names:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()


@pytest.fixture(scope="session")
def sqlite_odbc_billings(billing_files: dict[str, Path]) -> dict[str, Billing]:
    return {
        schema: Billing(f"sqliteodbc-{schema}", schema, f"DRIVER={{SQLite3}};Database={path}")
        for schema, path in billing_files.items()
    }


@pytest.fixture(scope="session")
def all_billings(
    pg_billings: dict[str, Billing],
    mariadb_billings: dict[str, Billing],
    sqlite_odbc_billings: dict[str, Billing],
) -> dict[str, Billing]:
    found = {}
    for group in (pg_billings, mariadb_billings, sqlite_odbc_billings):
        for b in group.values():
            found[b.name] = b
    return found


BILLING_NAMES = [f"{d}-{s}" for d in ("postgresql", "mariadb", "sqliteodbc") for s in ("demo", "legacy")]


@pytest.fixture(params=BILLING_NAMES)
def live(request: pytest.FixtureRequest, all_billings: dict[str, Billing]) -> Billing:
    return all_billings[request.param]


def _sample_ids(files: dict[str, Path]) -> list[str]:
    import sqlite3

    con = sqlite3.connect(files["demo"])
    try:
        no_charges = con.execute(
            "SELECT MIN(id) FROM subscribers WHERE id NOT IN (SELECT subscriber_id FROM charges)"
        ).fetchone()[0]
        shared = con.execute(
            "SELECT MIN(a.subscriber_id) FROM msisdns m JOIN accounts a ON a.id = m.account_id WHERE m.is_primary = 0"
        ).fetchone()[0]
        blocked = con.execute("SELECT MIN(id) FROM subscribers WHERE status = 'blocked'").fetchone()[0]
    finally:
        con.close()
    return ["1", str(no_charges), str(shared), str(blocked), str(SUBSCRIBERS)]


async def test_card_charges_and_payments_match_the_reference(
    live: Billing, billing_files: dict[str, Path]
) -> None:
    source, reference = odbc_source(live), reference_source(billing_files)
    try:
        for sid in _sample_ids(billing_files):
            card = await source.card(sid)
            assert card is not None
            assert card == await reference.card(sid)
            assert await source.charges(sid) == await reference.charges(sid)
            assert await source.payments(sid, 20) == await reference.payments(sid, 20)
        assert await source.card("987654321") is None
    finally:
        await source.close()
        await reference.close()


async def test_caller_lookup_through_the_cached_front(live: Billing, billing_files: dict[str, Path]) -> None:
    import numpy as np

    from billing_adapter.cache import CachedBilling
    from billing_adapter.demo import msisdn_of
    from billing_adapter.stores import MemoryStore

    front = CachedBilling(odbc_source(live), MemoryStore())
    try:
        number = str(msisdn_of(np.array([3]))[0])
        found = await front.lookup_caller(f"8 ({number[1:4]}) {number[4:7]}-{number[7:9]}-{number[9:]}")
        assert found.state == "found"
        assert found.card is not None
        assert found.card.subscriber_id == "3"
        shared_sid = _sample_ids(billing_files)[2]
        shared_number = str(msisdn_of(np.array([int(shared_sid) - 1]))[0])
        multiple = await front.lookup_caller(shared_number)
        assert multiple.state == "multiple"
        assert {m.subscriber_id for m in multiple.matches} == {shared_sid, str(int(shared_sid) - 1)}
        assert (await front.lookup_caller("+7 999 000 00 00")).state == "unknown"
        assert (await front.lookup_caller("8916abc4567")).state == "bad_number"
    finally:
        await front.close()


async def test_search_box_injection_finds_nothing_and_the_billing_is_intact(live: Billing) -> None:
    source = odbc_source(live)
    try:
        for text in ("x' OR '1'='1", "1; DROP TABLE subscribers", "' UNION SELECT 1,2,3 --", "%"):
            assert await source.search(text) == []
        hits = await source.search("1000000007")
        assert [h.subscriber_id for h in hits] == ["7"]
        assert len(next(iter(source.iter_batches("batch_subscribers", {}, 1000)))) == SUBSCRIBERS
    finally:
        await source.close()


async def test_name_search_over_odbc(live: Billing, billing_files: dict[str, Path]) -> None:
    reference, source = reference_source(billing_files), odbc_source(live)
    try:
        card = await reference.card("12")
        assert card is not None
        last = card.name.split()[0]
        hits = await source.search(f"{last.lower()} {card.first_name}")
        assert "12" in {h.subscriber_id for h in hits}
        assert all(h.name.startswith(f"{last} {card.first_name}") for h in hits)
    finally:
        await source.close()
        await reference.close()


def test_batches_match_the_reference(live: Billing, billing_files: dict[str, Path]) -> None:
    import pandas as pd

    source, reference = odbc_source(live), reference_source(billing_files)
    params = {"month_from": "2000-01", "month_to": "2999-12"}
    for query in ("batch_subscribers", "batch_monthly"):
        got = pd.concat(list(source.iter_batches(query, params, 97)), ignore_index=True)
        want = pd.concat(list(reference.iter_batches(query, params, 1000)), ignore_index=True)
        pd.testing.assert_frame_equal(got, want, check_exact=False, atol=0.011)


def test_read_only_session_refuses_writes(live: Billing) -> None:
    conn = OdbcBackend(live.odbc).connect()
    try:
        table = "subscribers" if live.schema == "demo" else "abn"
        with pytest.raises(pyodbc.Error, match=r"(?i)read.?only"):
            conn.execute(f"DELETE FROM {table}")
    finally:
        conn.close()
