"""The call writer draining in its worker process (`writer_process=true`): the history arrives in the DB as
from the thread, on SQLite and PostgreSQL; a row the DB refuses is quarantined and logged here; a dead
worker is replaced and loses nothing; a DB that is away keeps everything in the journal."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.apphelpers import make_container
from tests.conftest import migrated_db
from workstation.calls.writer import CallWriter
from workstation.db import Database
from workstation.kpis.rollup import apply_deltas
from workstation.models import AuditLog, Call, CallEventRow

T = 1_796_000_400.0


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[Database]:
    yield from migrated_db(request, tmp_path_factory, "wproc")


@pytest.fixture(params=["postgresql"])
def pg_db(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[Database]:
    yield from migrated_db(request, tmp_path_factory, "wprocbad")  # SQLite keeps a NUL byte


def process_writer(db: Database, journal: Path) -> CallWriter:
    writer = CallWriter(db, batch_window_s=0.02, journal=journal)
    writer.use_process()
    assert writer.process is not None
    return writer


def put_call(writer: CallWriter, call_id: str) -> None:
    writer.put("upsert", call_id, caller="79161234567", queue="support", state="queued", queued_at=T)
    writer.event(call_id, "offered", "PJSIP/1001", {"ring": 1})
    writer.put("upsert", call_id, state="ended", ended_at=T + 60)
    writer.audit(None, "card.read", call_id, {"via": "pop"})


def history(db: Database) -> tuple[dict[str, str], list[tuple[str, str]], list[str | None]]:
    with db.session() as s:
        calls = {c.id: c.state for c in s.scalars(select(Call))}
        events = [(e.call_id, e.type) for e in s.scalars(select(CallEventRow).order_by(CallEventRow.id))]
        audits = [a.subject for a in s.scalars(select(AuditLog).where(AuditLog.action == "card.read"))]
    return calls, events, audits


async def test_the_worker_process_writes_the_history(db: Database, tmp_path: Path) -> None:
    writer = process_writer(db, tmp_path / "outbox.sqlite")
    writer.start()
    try:
        put_call(writer, "P1")
        put_call(writer, "P2")
        assert await writer.flush() is True
        assert writer.process is not None
        assert writer.process.pid not in (None, os.getpid())
        assert history(db) == (
            {"P1": "ended", "P2": "ended"},
            [("P1", "offered"), ("P2", "offered")],
            ["P1", "P2"],
        )
        assert writer.confirmed == 8
        assert writer.health()["pending"] == 0
    finally:
        await writer.stop()
    assert writer.process.pid is None  # the worker ended with the writer


async def test_a_refused_row_is_quarantined_by_the_worker_and_logged_here(
    pg_db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = process_writer(pg_db, tmp_path / "outbox.sqlite")
    caplog.set_level(logging.INFO)
    writer.put("upsert", "G1", caller="79160000001", state="queued", queued_at=T)
    writer.put("upsert", "B1", caller="7916\x00secret", state="queued", queued_at=T)
    writer.put("upsert", "G2", caller="79160000002", state="queued", queued_at=T)
    assert await writer.flush() is True
    assert set(history(pg_db)[0]) == {"G1", "G2"}
    assert [(kind, cid) for _, kind, cid, _ in writer.outbox.quarantined()] == [("upsert", "B1")]
    assert writer.quarantined_count == 1
    logged = [r for r in caplog.records if r.name == "workstation.calls.writer"]
    assert any("quarantined operation" in r.getMessage() and "B1" in r.getMessage() for r in logged)
    assert not any("secret" in r.getMessage() for r in caplog.records)
    await writer.stop()


async def test_a_dead_worker_is_replaced_and_nothing_is_lost(db: Database, tmp_path: Path) -> None:
    writer = process_writer(db, tmp_path / "outbox.sqlite")
    writer.start()
    try:
        put_call(writer, "K1")
        assert await writer.flush() is True
        assert writer.process is not None
        first = writer.process.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        put_call(writer, "K2")
        assert await writer.flush() is True
        assert history(db)[0] == {"K1": "ended", "K2": "ended"}
        assert writer.process.started == 2
        assert writer.process.pid not in (None, first)
    finally:
        await writer.stop()


async def test_operations_wait_in_the_journal_while_the_db_is_away(tmp_path: Path, db: Database) -> None:
    journal = tmp_path / "outbox.sqlite"
    away = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")  # a closed port: refused at once
    writer = process_writer(away, journal)
    writer.start()
    put_call(writer, "W1")
    assert await writer.flush() is False
    assert writer.delayed is True
    assert writer.health()["pending"] == 4
    await writer.stop()
    away.dispose()
    # the next start, with the DB back, writes what the journal kept
    again = process_writer(db, journal)
    again.start()
    try:
        assert await again.flush() is True
        assert history(db) == ({"W1": "ended"}, [("W1", "offered")], ["W1"])
    finally:
        await again.stop()


async def test_a_feature_applier_runs_in_the_worker_and_a_local_one_in_the_thread(
    db: Database, tmp_path: Path
) -> None:
    writer = process_writer(db, tmp_path / "outbox.sqlite")
    writer.batch_appliers["kpi_delta"] = apply_deltas  # module-level: the worker imports it
    put_call(writer, "F1")
    assert await writer.flush() is True
    assert writer.process is not None
    assert writer.process.started == 1
    seen: list[int] = []
    writer.batch_appliers["marks"] = lambda _s, ops: seen.append(len(ops))  # only this process has it
    writer.put("marks", "")
    put_call(writer, "F2")
    assert await writer.flush() is True
    assert seen == [1]
    assert set(history(db)[0]) == {"F1", "F2"}
    await writer.stop()


async def test_the_setting_puts_the_servers_writer_in_its_worker_process(tmp_path: Path) -> None:
    container = make_container(tmp_path, features=(), writer_process=True)
    writer = container.calls.writer
    assert writer.process is not None
    put_call(writer, "S1")
    assert await writer.flush() is True
    assert writer.process.started == 1
    assert writer.process.pid not in (None, os.getpid())
    assert history(container.db) == ({"S1": "ended"}, [("S1", "offered")], ["S1"])
    await writer.stop()
    (tmp_path / "off").mkdir()
    assert make_container(tmp_path / "off", features=(), writer_process=False).calls.writer.process is None
