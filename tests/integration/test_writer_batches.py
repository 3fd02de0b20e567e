"""Operations the writer applies a batch at a time (the KPI roll-up, the operators' state log) land
exactly as the same operations applied one by one, whatever batches the journal is cut into."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import migrated_database
from workstation.auth import create_user
from workstation.calls.writer import CallWriter
from workstation.db import Database
from workstation.kpis.models import AgentStateRow, KpiHourly
from workstation.kpis.service import register_writer_operations

H = 1_796_000_400  # a whole UTC hour


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[str]:
    yield from migrated_database(request, tmp_path_factory, "batches")


def states(db: Database) -> list[tuple[int, str, float, float | None]]:
    with db.session() as s:
        rows = s.scalars(select(AgentStateRow).order_by(AgentStateRow.user_id, AgentStateRow.started_at))
        return [
            (r.user_id, r.state, r.started_at.timestamp(), r.ended_at.timestamp() if r.ended_at else None)
            for r in rows
        ]


def hourly(db: Database) -> dict[tuple[float, str, int], dict[str, float]]:
    with db.session() as s:
        return {
            (r.slot.timestamp(), r.queue, r.operator_id): {
                "offered": r.offered,
                "answered": r.answered,
                "busy_s": r.busy_s,
                "ready_s": r.ready_s,
            }
            for r in s.scalars(select(KpiHourly))
        }


async def test_states_and_roll_up_in_one_batch_or_one_by_one_are_the_same(db_url: str) -> None:
    db = Database(db_url)
    a = create_user(db, "op_a", "secret123", "operator").id
    b = create_user(db, "op_b", "secret123", "operator").id
    writer = CallWriter(db)
    register_writer_operations(writer)
    # one batch: two operators, several states each, the same roll-up row added to three times
    writer.put("agent_state", "", user_id=a, state="ready", at=H + 10)
    writer.put("agent_state", "", user_id=b, state="ready", at=H + 20)
    writer.put("agent_state", "", user_id=a, state="on_call", at=H + 30)
    writer.put("kpi_delta", "", rows=[[H, "support", 0, {"offered": 1}], [H, "", a, {"answered": 1}]])
    writer.put("kpi_delta", "", rows=[[H, "support", 0, {"offered": 1}]])
    writer.put("agent_state", "", user_id=a, state="wrap_up", at=H + 90)
    writer.put("kpi_delta", "", rows=[[H, "", a, {"busy_s": 60.5}], [H, "support", 0, {"offered": -1}]])
    assert await writer.flush() is True
    assert states(db) == [
        (a, "ready", H + 10, H + 30),
        (a, "on_call", H + 30, H + 90),
        (a, "wrap_up", H + 90, None),
        (b, "ready", H + 20, None),
    ]
    assert hourly(db) == {
        (H, "support", 0): {"offered": 1, "answered": 0, "busy_s": 0.0, "ready_s": 0.0},
        (H, "", a): {"offered": 0, "answered": 1, "busy_s": 60.5, "ready_s": 0.0},
    }
    # the next batches go on from what the DB holds: one operation each
    writer.put("agent_state", "", user_id=a, state="ready", at=H + 100)
    assert await writer.flush() is True
    writer.put("kpi_delta", "", rows=[[H, "", a, {"ready_s": 5.0}], [H, "support", 0, {"offered": 2}]])
    assert await writer.flush() is True
    assert states(db)[2:4] == [(a, "wrap_up", H + 90, H + 100), (a, "ready", H + 100, None)]
    assert states(db)[4] == (b, "ready", H + 20, None)
    assert hourly(db)[(H, "support", 0)]["offered"] == 3
    assert hourly(db)[(H, "", a)] == {"offered": 0, "answered": 1, "busy_s": 60.5, "ready_s": 5.0}
    db.dispose()


async def test_what_was_appended_is_in_the_journal_for_anyone_who_reads_it(tmp_path: Any) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    writer = CallWriter(db, journal=tmp_path / "outbox.sqlite")  # not started: nothing drains it
    for n in range(5):
        writer.put("upsert", f"C{n}", caller="79160000000", state="queued", queued_at=1.7e9)
    assert writer.health()["pending"] == 5
    await writer.stop()
    # a restart finds them in the file
    again = CallWriter(db, journal=tmp_path / "outbox.sqlite")
    assert again.health()["pending"] == 5
    await again.stop()
    db.dispose()
