"""A generated mixed day through the KPI service and the real call writer into PostgreSQL and SQLite: the
board, the SQL report and the drill-down agree with values computed here from the schedule alone."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from telephony.events import CallAbandoned, CallAnswered, CallEnded, CallOffered, CallQueued
from tests.conftest import migrated_database
from workstation.auth import create_user
from workstation.bus.memory import MemoryBus
from workstation.calls.writer import CallWriter
from workstation.db import Database
from workstation.kpis import reports
from workstation.kpis.formulas import Rules
from workstation.kpis.service import KpiService, register_writer_operations

DAY = datetime(2026, 11, 30, tzinfo=UTC)
RULES = Rules(threshold_s=20, queue_thresholds={"vip": 10}, short_abandon_s=5, abandoned="missed")


@dataclass
class Planned:
    call_id: str
    queue: str
    join: int  # epoch seconds (whole: the expected values need no rounding rule)
    wait: int
    answered: bool
    talk: int
    acw: int
    operator: int


def schedule(ops: list[int], n: int = 300, seed: int = 7) -> list[Planned]:
    """Calls over ten hours; an answered call goes to an operator free by then (else it is abandoned)."""
    rng = random.Random(seed)
    free_at = dict.fromkeys(ops, 0)
    out = []
    joins = sorted(int(DAY.timestamp()) + 8 * 3600 + rng.randrange(0, 10 * 3600) for _ in range(n))
    for i, join in enumerate(joins):
        answered = rng.random() < 0.8
        wait = (
            rng.choice([0, 3, 5, 6, 10, 11, 19, 20, 21, 45, 90])
            if answered
            else rng.choice([1, 5, 6, 30, 120])
        )
        talk, acw = rng.randrange(20, 400), rng.choice([0, 15, 60, 200])
        free = [o for o in ops if free_at[o] <= join + wait]
        if answered and not free:
            answered = False
        op = rng.choice(free) if answered else ops[0]
        if answered:
            free_at[op] = join + wait + talk + acw + 1
        out.append(Planned(f"D{i}", rng.choice(["support", "vip"]), join, wait, answered, talk, acw, op))
    return out


def expected(plan: list[Planned], queue: str | None = None) -> dict[str, Any]:
    calls = [p for p in plan if queue is None or p.queue == queue]
    ans = [p for p in calls if p.answered]
    gone = [p for p in calls if not p.answered]
    met = sum(1 for p in ans if p.wait <= (10 if p.queue == "vip" else 20))
    long_gone = [p for p in gone if p.wait > 5]
    return {
        "offered": len(calls),
        "answered": len(ans),
        "answered_in_sl": met,
        "abandoned": len(long_gone),
        "abandoned_short": len(gone) - len(long_gone),
        "service_level_pct": round(100 * met / (len(ans) + len(long_gone)), 1),
        "asa_s": round(sum(p.wait for p in ans) / len(ans), 1),
        "avg_talk_s": round(sum(p.talk for p in ans) / len(ans), 1),
        "avg_acw_s": round(sum(p.acw for p in ans) / len(ans), 1),
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[str]:
    yield from migrated_database(request, tmp_path_factory, "kpis")


class Directory:
    def __init__(self, ops: list[int]) -> None:
        self.ops = ops

    def user_for(self, agent: str, extension: str | None = None) -> int | None:
        return int(agent.split("/")[1])

    def is_agent_number(self, number: str) -> bool:
        return False


async def play(plan: list[Planned], db: Database, ops: list[int]) -> KpiService:
    writer = CallWriter(db)
    register_writer_operations(writer)
    clock_now = [DAY.timestamp() + 23 * 3600]
    svc = KpiService(
        db, None, MemoryBus(), writer, Directory(ops), RULES, tz="UTC", clock=lambda: clock_now[0]
    )
    events: list[tuple[float, int, Any]] = []
    for p in plan:
        agent = f"PJSIP/{p.operator}"
        events.append((p.join, 0, CallQueued(p.call_id, p.join, caller="+79160000000", queue=p.queue)))
        if p.answered:
            at = p.join + p.wait
            events.append((at, 1, CallOffered(p.call_id, at, caller="+79160000000", agent=agent)))
            events.append((at, 2, CallAnswered(p.call_id, at, caller="+79160000000", agent=agent)))
            events.append((at, 3, ("state", p.operator, "on_call")))
            events.append((at + p.talk, 4, CallEnded(p.call_id, at + p.talk, agent=agent)))
            events.append((at + p.talk, 5, ("state", p.operator, "wrap_up" if p.acw else "ready")))
            if p.acw:
                events.append((at + p.talk + p.acw, 6, ("state", p.operator, "ready")))
        else:
            events.append((p.join + p.wait, 1, CallAbandoned(p.call_id, p.join + p.wait, queue=p.queue)))
    for t, _, ev in sorted(events, key=lambda e: (e[0], e[1])):
        if isinstance(ev, tuple):
            svc.agent_state(ev[1], ev[2], float(t))
        else:
            svc.on_call_event(ev)
    await writer.flush()
    return svc


async def test_board_report_and_drill_down_agree_with_the_schedule(db_url: str) -> None:
    db = Database(db_url)
    ops = [create_user(db, f"op{i}", "secret123", "operator").id for i in range(4)]
    plan = schedule(ops)
    await play(plan, db, ops)
    start, end = DAY, DAY + timedelta(days=1)
    rows = {r["key"]: r for r in reports.report(db, RULES, start, end, bucket="day", group="queue", tz="UTC")}
    total = reports.report(db, RULES, start, end, bucket="day", group="all", tz="UTC")
    assert len(total) == 1
    assert total[0]["bucket"] == "2026-11-30 00:00"
    for key, want in [
        ("support", expected(plan, "support")),
        ("vip", expected(plan, "vip")),
        ("*", expected(plan)),
    ]:
        got = rows.get(key) or total[0]
        assert {k: got[k] for k in want} == want, key
    # the roll-up the report reads holds exactly what the call facts say
    for group in ("all", "queue", "operator"):
        for bucket in ("hour", "day"):
            kept = reports.report(db, RULES, start, end, bucket=bucket, group=group, tz="UTC")
            kept = [
                r for r in kept if r["offered"] or r["answered_all"]
            ]  # not the hours of operators' time only
            again = reports.recount(db, RULES, start, end, bucket=bucket, group=group, tz="UTC")

            def strip(rows: Any) -> Any:
                return [{k: v for k, v in r.items() if k not in ("fcr_pct", "occupancy_pct")} for r in rows]

            assert strip(kept) == strip(again), (group, bucket)
    abandoned = reports.calls(db, RULES, start, end, figure="abandoned", queue="vip")
    assert len(abandoned) == expected(plan, "vip")["abandoned"]
    assert all("caller" not in c for c in abandoned)
    hourly = reports.report(db, RULES, start, end, bucket="hour", group="queue", tz="UTC")
    assert sum(r["offered"] for r in hourly) == len(plan)
    assert min(r["bucket"] for r in hourly) >= "2026-11-30 08:00"
    db.dispose()


async def test_operator_report_gives_first_contact_resolution_and_own_day(db_url: str) -> None:
    db = Database(db_url)
    ops = [create_user(db, f"op{i}", "secret123", "operator").id for i in range(2)]
    plan = [p for p in schedule(ops, n=40, seed=3) if p.answered]
    svc = await play(plan, db, ops)
    mine = [p for p in plan if p.operator == ops[0]]
    outcomes = ["resolved", "escalated", "callback", "resolved"]
    for n, p in enumerate(mine):  # what the records service announces when a record is finished
        msg = {
            "type": "records.finished",
            "call_id": p.call_id,
            "operator_id": ops[0],
            "outcome": outcomes[n % 4],
        }
        await svc._on_supervisor_message("role.supervisor", msg)
    await svc.writer.flush()
    rows = reports.report(db, RULES, DAY, DAY + timedelta(days=1), bucket="day", group="operator", tz="UTC")
    by_op = {r["key"]: r for r in rows}
    resolved = sum(1 for n in range(len(mine)) if outcomes[n % 4] == "resolved")
    assert by_op[ops[0]]["answered_all"] == len(mine)
    assert by_op[ops[0]]["fcr_pct"] == round(100 * resolved / len(mine), 1)
    assert by_op[ops[1]]["fcr_pct"] is None  # no records: no figure rather than 0 %
    # occupancy from the states the schedule implies: busy = talk + ACW; ready = the gaps between calls
    seq = sorted(mine, key=lambda p: p.join + p.wait)
    busy = sum(p.talk + p.acw for p in seq)
    ready = sum((b.join + b.wait) - (a.join + a.wait + a.talk + a.acw) for a, b in itertools.pairwise(seq))
    assert by_op[ops[0]]["occupancy_pct"] == round(100 * busy / (busy + ready), 1)
    today = reports.operator_today(db, RULES, ops[0], "UTC", now=DAY + timedelta(hours=23))
    assert today["answered"] == len(mine)
    assert today["acw_total_s"] == sum(p.acw for p in mine)
    assert today["aht_s"] == round(
        round(sum(p.talk for p in mine) / len(mine), 1) + round(sum(p.acw for p in mine) / len(mine), 1), 1
    )
    db.dispose()


def test_a_report_refuses_a_period_without_time_zone_or_too_long(tmp_path: Any) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(reports.ReportError) as err:
        reports.report(db, RULES, datetime(2026, 1, 1), datetime(2026, 1, 2))
    assert err.value.error_id == "kpi_bad_period"
    with pytest.raises(reports.ReportError) as err:
        reports.report(db, RULES, DAY, DAY + timedelta(days=200))
    assert err.value.error_id == "kpi_bad_period"
    with pytest.raises(reports.ReportError) as err:
        reports.report(db, RULES, DAY, DAY + timedelta(days=1), bucket="minute")
    assert err.value.error_id == "kpi_bad_bucket"


def test_migration_matches_the_models_for_the_call_facts(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from workstation import models_all  # noqa: F401
    from workstation.db import Base

    eng = Database(db_url).engine
    with eng.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    eng.dispose()
    assert [d for d in diffs if any(t in repr(d) for t in ("'calls'", "agent_states", "kpi_hourly"))] == []
