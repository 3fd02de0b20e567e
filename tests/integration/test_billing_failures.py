"""Billing trouble over real ODBC: down at start, dying mid-lookup, a hanging query, the live mapping check."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from billing_adapter.cache import CachedBilling
from billing_adapter.dbapi import DbApiBilling
from billing_adapter.mapping import MAPPINGS_DIR, load_mapping
from billing_adapter.odbc import OdbcBackend
from billing_adapter.ports import BillingError
from billing_adapter.resilience import CircuitBreaker
from billing_adapter.stores import MemoryStore
from tests.conftest import PG_ADMIN_URL
from tests.integration import test_billing_odbc as fx
from tests.integration.test_billing_odbc import Billing, odbc_source

# shared session fixtures: one small demo billing per database
billing_files = fx.billing_files
pg_billings = fx.pg_billings
mariadb_billings = fx.mariadb_billings

ROOT = Path(__file__).resolve().parents[2]


def _sleepy_mapping(tmp_path: Path, seconds: int = 30, sleep: str = "pg_sleep({s})::text = ''") -> Path:
    """The demo mapping whose card query hangs (the duration also tags the statement)."""
    text = (MAPPINGS_DIR / "demo.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "WHERE s.id = :subscriber_id\n",
        f"WHERE s.id = :subscriber_id AND {sleep.format(s=seconds)}\n",
        1,
    )
    path = tmp_path / "sleepy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _admin(sql: str, *params: object) -> list[tuple]:
    with psycopg.connect(
        PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as c:
        return c.execute(sql, params).fetchall()  # type: ignore[arg-type]


async def test_billing_down_at_start_gives_unavailable_then_opens_the_breaker() -> None:
    dead = Billing(
        "dead",
        "demo",
        f"DRIVER={{PostgreSQL Unicode}};SERVER=127.0.0.1;PORT={_closed_port()};DATABASE=x;UID=postgres",
    )
    front = CachedBilling(odbc_source(dead, timeout_s=2), MemoryStore(), breaker=CircuitBreaker(2, 60))
    try:
        first = await front.lookup_caller("79161234567")
        assert first.state == "unavailable"
        assert first.freshness is not None
        assert first.freshness.billing_state == "unavailable"
        await front.lookup_caller("79161234568")
        health = await front.health()
        assert health["ok"] is False
        assert health["breaker"]["state"] == "open"  # type: ignore[index]
        assert (await front.get_card("1")).state == "unavailable"
    finally:
        await front.close()


@pytest.mark.parametrize("dbms", ["postgresql", "mariadb"])
async def test_hanging_query_times_out_and_the_card_says_unavailable(
    dbms: str, pg_billings: dict[str, Billing], mariadb_billings: dict[str, Billing], tmp_path: Path
) -> None:
    billing = (pg_billings if dbms == "postgresql" else mariadb_billings)["demo"]
    sleep = "pg_sleep({s})::text = ''" if dbms == "postgresql" else "SLEEP({s}) = 0"
    source = odbc_source(billing, timeout_s=1, mapping=_sleepy_mapping(tmp_path, sleep=sleep))
    try:
        with pytest.raises(BillingError) as info:
            await source.card("1")
        assert info.value.error_id == "billing_timeout"
        front = CachedBilling(source, MemoryStore(), answer_within_s=0.5)
        found = await front.get_card("2")
        assert found.state == "unavailable"
        assert found.message == "billing unavailable"
        assert (await source.find_by_msisdn("79990000000")) == []  # the pool recovered: other queries work
    finally:
        await source.close()


async def test_billing_dying_mid_lookup_is_reported_and_the_next_lookup_reconnects(
    pg_billings: dict[str, Billing], tmp_path: Path
) -> None:
    billing = pg_billings["demo"]
    dbname = billing.odbc.split("DATABASE=")[1].split(";")[0]
    source = odbc_source(billing, timeout_s=20, mapping=_sleepy_mapping(tmp_path, 31))
    try:
        lookup = asyncio.ensure_future(source.card("1"))
        for _ in range(200):
            if _admin(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND state = 'active' AND query LIKE %s",
                dbname,
                "%pg_sleep(31)%",
            ):
                break
            await asyncio.sleep(0.05)
        _admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            dbname,
        )
        with pytest.raises(BillingError) as info:
            await lookup
        assert info.value.error_id == "billing_unavailable"
        assert "terminating connection" in str(info.value)
        assert [r.subscriber_id for r in await source.search("1000000004")] == ["4"]
    finally:
        await source.close()


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    return subprocess.run(
        [str(Path(sys.executable).parent / "workstation"), *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        timeout=120,
    )


def test_billing_check_passes_on_a_live_billing(pg_billings: dict[str, Billing]) -> None:
    done = _cli(
        "billing",
        "check",
        WORKSTATION_BILLING_URL="odbc://" + pg_billings["legacy"].odbc,
        WORKSTATION_BILLING_MAPPING="legacy_kopecks",
    )
    assert done.returncode == 0, done.stderr
    assert "mapping legacy_kopecks on odbc:postgresql: 11 ok, 0 failing" in done.stdout


def test_billing_check_names_each_query_that_does_not_fit_the_live_schema(
    pg_billings: dict[str, Billing],
) -> None:
    done = _cli(
        "billing",
        "check",
        WORKSTATION_BILLING_URL="odbc://" + pg_billings["legacy"].odbc,
        WORKSTATION_BILLING_MAPPING="demo",
    )
    assert done.returncode == 1
    assert 'FAIL card: fails: [42P01] ERROR: relation "subscribers" does not exist' in done.stdout
    assert "0 ok, 11 failing" in done.stderr


def test_broken_mapping_stops_the_check_with_one_line(
    tmp_path: Path, pg_billings: dict[str, Billing]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        (MAPPINGS_DIR / "demo.yaml").read_text(encoding="utf-8").replace("  payments:\n", "  paymentz:\n")
    )
    done = _cli(
        "billing",
        "check",
        WORKSTATION_BILLING_URL="odbc://" + pg_billings["demo"].odbc,
        WORKSTATION_BILLING_MAPPING=str(broken),
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "workstation: billing mapping broken.yaml: query 'payments' is missing"


def test_mapping_whose_column_is_absent_from_the_result_is_named(
    tmp_path: Path, pg_billings: dict[str, Billing]
) -> None:
    text = (
        (MAPPINGS_DIR / "demo.yaml")
        .read_text(encoding="utf-8")
        .replace("t.name AS tariff, s.region", "t.name AS tarif, s.region", 1)
    )
    path = tmp_path / "typo.yaml"
    path.write_text(text, encoding="utf-8")
    source = DbApiBilling(OdbcBackend(pg_billings["demo"].odbc), load_mapping(path), pool_size=1)
    with pytest.raises(BillingError, match="query 'card': the result has no column 'tariff'"):
        asyncio.run(source.card("1"))
