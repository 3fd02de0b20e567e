"""The generated demo billing read through the demo and legacy mappings with sqlite3 (embedded demo)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from billing_adapter.dbapi import DbApiBilling
from billing_adapter.demo import DemoSpec, generate_sqlite, msisdn_of
from billing_adapter.mapping import load_mapping
from billing_adapter.ports import BillingError
from billing_adapter.sqlite import SqliteBackend

N = 300


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("billing")
    spec = DemoSpec(subscribers=N, seed=7)
    paths = {"demo": root / "demo.db", "legacy": root / "legacy.db"}
    generate_sqlite(paths["demo"], spec, "demo")
    generate_sqlite(paths["legacy"], spec, "legacy")
    return paths


def _source(path: Path, mapping: str = "demo") -> DbApiBilling:
    return DbApiBilling(SqliteBackend(path), load_mapping(mapping), pool_size=2, timeout_s=5)


def _rows(path: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_same_seed_gives_the_same_billing(tmp_path: Path, demo_files: dict[str, Path]) -> None:
    again = tmp_path / "again.db"
    generate_sqlite(again, DemoSpec(subscribers=N, seed=7), "demo")
    for table in ("subscribers", "charges", "payments", "msisdns"):
        sql = f"SELECT * FROM {table} ORDER BY 1, 2"
        assert _rows(again, sql) == _rows(demo_files["demo"], sql)


def test_demo_has_every_state_the_card_must_show(demo_files: dict[str, Path]) -> None:
    db = demo_files["demo"]
    statuses = {r[0] for r in _rows(db, "SELECT DISTINCT status FROM subscribers")}
    assert {"active", "blocked", "suspended"} <= statuses
    assert _rows(db, "SELECT COUNT(*) FROM accounts WHERE balance < 0")[0][0] > 0
    assert (
        _rows(db, "SELECT COUNT(*) FROM subscribers WHERE id NOT IN (SELECT subscriber_id FROM charges)")[0][
            0
        ]
        > 0
    )
    assert (
        _rows(db, "SELECT COUNT(*) FROM (SELECT msisdn FROM msisdns GROUP BY msisdn HAVING COUNT(*) > 1)")[0][
            0
        ]
        > 0
    )


async def test_demo_and_legacy_schemas_give_identical_cards(demo_files: dict[str, Path]) -> None:
    demo, legacy = _source(demo_files["demo"]), _source(demo_files["legacy"], "legacy_kopecks")
    try:
        for sid in ("1", "2", "150", str(N)):
            assert await demo.card(sid) == await legacy.card(sid)
            assert await demo.charges(sid) == await legacy.charges(sid)
            assert await demo.payments(sid) == await legacy.payments(sid)
    finally:
        await demo.close()
        await legacy.close()


async def test_card_shows_name_balance_services_and_arpu(demo_files: dict[str, Path]) -> None:
    source = _source(demo_files["demo"])
    try:
        (ref,) = await source.find_by_msisdn(str(msisdn_of(__import__("numpy").array([5]))[0]))
        card = await source.card(ref.subscriber_id)
        assert card is not None
        last, first, middle, balance = _rows(
            demo_files["demo"],
            "SELECT s.last_name, s.first_name, s.middle_name, a.balance FROM subscribers s "
            "JOIN accounts a ON a.subscriber_id = s.id WHERE s.id = 5",
        )[0]
        assert card.name == f"{last} {first} {middle}"
        assert card.balance == round(balance, 2)
        services = _rows(
            demo_files["demo"], "SELECT COUNT(*) FROM subscriber_services WHERE subscriber_id = 5"
        )[0][0]
        assert len(card.services) == services
        months = await source.charges("5", 3)
        full = [m for m in months if m.month < __import__("datetime").date.today().strftime("%Y-%m")][:3]
        assert card.arpu == pytest.approx(sum(m.total for m in full) / 3, abs=0.02)
    finally:
        await source.close()


async def test_subscriber_with_no_charges_has_zero_arpu_and_empty_history(
    demo_files: dict[str, Path],
) -> None:
    sid = _rows(
        demo_files["demo"],
        "SELECT MIN(id) FROM subscribers WHERE id NOT IN (SELECT subscriber_id FROM charges)",
    )[0][0]
    source = _source(demo_files["demo"])
    try:
        card = await source.card(str(sid))
        assert card is not None
        assert card.arpu == 0.0
        assert await source.charges(str(sid)) == []
    finally:
        await source.close()


async def test_unknown_and_non_numeric_ids_are_not_found(demo_files: dict[str, Path]) -> None:
    source = _source(demo_files["demo"])
    try:
        assert await source.card("999999") is None
        assert await source.card("1 OR 1=1") is None
        assert await source.find_by_msisdn("79999999999") == []
    finally:
        await source.close()


async def test_injection_in_the_search_box_finds_nothing_and_changes_nothing(
    demo_files: dict[str, Path],
) -> None:
    source = _source(demo_files["demo"])
    try:
        assert await source.search("x' OR '1'='1") == []
        assert await source.search("'; DROP TABLE subscribers; --") == []
        assert _rows(demo_files["demo"], "SELECT COUNT(*) FROM subscribers")[0][0] == N
    finally:
        await source.close()


async def test_search_by_account_contract_and_name(demo_files: dict[str, Path]) -> None:
    source = _source(demo_files["demo"])
    try:
        account, contract, last = _rows(
            demo_files["demo"],
            "SELECT a.account_no, a.contract_no, s.last_name FROM accounts a JOIN subscribers s "
            "ON s.id = a.subscriber_id WHERE s.id = 9",
        )[0]
        assert [r.subscriber_id for r in await source.search(account)] == ["9"]
        assert [r.subscriber_id for r in await source.search(contract)] == ["9"]
        hits = await source.search(last.lower())
        assert "9" in {r.subscriber_id for r in hits}
        assert all(r.name.startswith(last) for r in hits)
    finally:
        await source.close()


async def test_missing_demo_file_is_a_clear_billing_error(tmp_path: Path) -> None:
    source = _source(tmp_path / "absent.db")
    try:
        with pytest.raises(BillingError, match="demo billing not found"):
            await source.card("1")
    finally:
        await source.close()


def test_batches_cover_every_subscriber_once_in_bounded_pages(demo_files: dict[str, Path]) -> None:
    for path, mapping in ((demo_files["demo"], "demo"), (demo_files["legacy"], "legacy_kopecks")):
        source = _source(path, mapping)
        pages = list(source.iter_batches("batch_subscribers", {}, 64))
        assert all(len(p) <= 64 for p in pages)
        ids = [i for p in pages for i in p["subscriber_id"].tolist()]
        assert ids == list(range(1, N + 1))
        monthly = list(
            source.iter_batches("batch_monthly", {"month_from": "2000-01", "month_to": "2999-12"}, 50)
        )
        total = sum(
            float(p[["voice", "sms", "data", "subscription", "roaming", "other"]].to_numpy().sum())
            for p in monthly
        )
        expected = _rows(demo_files["demo"], "SELECT SUM(amount) FROM charges")[0][0]
        assert total == pytest.approx(expected, rel=1e-9, abs=0.05)
        assert str(monthly[0]["voice"].dtype) == "float64"
        assert monthly[0]["month"].str.fullmatch(r"\d{4}-\d{2}").all()


async def test_card_pops_while_every_billing_worker_is_busy(demo_files: dict[str, Path]) -> None:
    """The caller's card on the embedded billing does not queue behind slow searches or exports."""
    import threading

    src = _source(demo_files["demo"])
    release = threading.Event()
    try:
        blockers = [src._executor.submit(release.wait) for _ in range(src.pool_size)]
        refs, card = await src.find_with_card(_number(5))
        assert card is not None
        assert [r.subscriber_id for r in refs] == [card.subscriber_id]
        assert (await src.card(card.subscriber_id)) == card
        assert not any(b.done() for b in blockers)
    finally:
        release.set()
        await src.close()


async def test_billing_file_locked_by_a_writer_is_a_billing_error_then_cards_again(
    demo_files: dict[str, Path],
) -> None:
    src = _source(demo_files["demo"])
    writer = sqlite3.connect(demo_files["demo"], isolation_level=None)
    try:
        writer.execute("BEGIN EXCLUSIVE")  # e.g. the demo billing being regenerated in place
        with pytest.raises(BillingError):
            await src.find_with_card(_number(5))
        writer.execute("ROLLBACK")
        _, card = await src.find_with_card(_number(5))
        assert card is not None
    finally:
        writer.close()
        await src.close()


def _number(subscriber_id: int) -> str:
    return str(msisdn_of(__import__("numpy").array([subscriber_id]))[0])
