"""Tickets on real databases (SQLite and PostgreSQL): escalation, routing, the state machine, comments,
attachments, stale updates, SLA escalation, engineers going offline, the card section."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from billing_adapter.memory import MemoryBilling, make_card
from tests.conftest import migrated_database
from workstation.bus.memory import MemoryBus
from workstation.db import Database, utcnow
from workstation.errors import Conflict, Forbidden, TooLarge
from workstation.hub import Hub
from workstation.models import AuditLog, User
from workstation.tickets import sla
from workstation.tickets.attachments import MAX_ATTACHMENT_BYTES
from workstation.tickets.models import Ticket, TicketAttachment
from workstation.tickets.service import BadTicket, TicketService
from workstation.tickets.states import InvalidTransition

MY_TABLES = (
    "ticket_events",
    "ticket_comments",
    "ticket_attachments",
    "tickets",
    "ticket_topic_routes",
    "ticket_sla_targets",
    "ticket_routing_settings",
    "ticket_outages",
    "audit_log",
    "users",
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db_url(request: Any, tmp_path_factory: Any) -> Iterator[str]:
    yield from migrated_database(request, tmp_path_factory, "tickets")


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    with database.session() as s:
        for table in MY_TABLES:
            s.execute(text(f"DELETE FROM {table}"))
    yield database
    database.dispose()


@pytest.fixture
def billing() -> MemoryBilling:
    b = MemoryBilling()
    b.add(make_card("1", "79161234567", first_name="Иван", arpu=450.0, region="Москва"))
    b.add(make_card("2", "79161234568", first_name="Вера", arpu=3200.0, region="Москва"))
    b.add(make_card("3", "79161234569", first_name="Олег", arpu=300.0, region="Тверь"))
    return b


@pytest.fixture
def hub() -> Hub:
    return Hub(MemoryBus())


@pytest.fixture
def svc(db: Database, billing: MemoryBilling, hub: Hub) -> TicketService:
    return TicketService(db, billing, hub)


def add_user(
    db: Database,
    name: str,
    role: str = "tech_support",
    presence: str = "ready",
    skills: list[str] | None = None,
    group: str | None = None,
) -> User:
    with db.session() as s:
        u = User(
            username=name,
            display_name=name.title(),
            password_hash="x",
            role=role,
            presence=presence,
            skills=skills or [],
            group=group,
            language="ru",
            active=True,
        )
        s.add(u)
        s.flush()
        s.expunge(u)
        return u


def drain(conn: Any) -> list[dict[str, Any]]:
    out = []
    while not conn.queue.empty():
        out.append(conn.queue.get_nowait())
    return out


async def test_escalation_carries_card_note_and_topic_and_reaches_engineers_live(
    svc: TicketService, db: Database, hub: Hub
) -> None:
    op = add_user(db, "op", role="operator")
    eng = add_user(db, "eng", presence="offline", skills=["mobile_data"], group="network")
    screen = hub.register(eng.id, "tech_support")
    t = await svc.escalate(op, subscriber_id="1", topic="mobile_data", note="APN set, still no data")
    assert t["state"] == "new"
    assert t["topic"] == "mobile_data"
    assert t["group"] == "network"
    assert t["required_skills"] == ["mobile_data"]
    assert t["priority"] == 3
    pushed = drain(screen)
    assert [m["type"] for m in pushed] == ["ticket.created"]
    assert pushed[0]["ticket"]["id"] == t["id"]
    detail = svc.detail(eng, t["id"])
    assert detail["card"]["first_name"] == "Иван"
    assert detail["note"] == "APN set, still no data"
    assert [h["kind"] for h in detail["history"]] == ["created"]
    with db.session() as s:  # reading the card snapshot is audited
        assert s.scalar(select(AuditLog.action).where(AuditLog.user_id == eng.id)) == "ticket.card_view"


async def test_priority_rises_for_vip_repeat_calls_and_outages(svc: TicketService, db: Database) -> None:
    op = add_user(db, "op", role="operator")
    plain = await svc.escalate(op, subscriber_id="1", topic="roaming", note="n")
    assert plain["priority"] == 3
    assert plain["routing"]["arpu_tier"] == "standard"
    vip = await svc.escalate(op, subscriber_id="2", topic="roaming", note="n")
    assert vip["priority"] == 2
    assert vip["routing"]["arpu_tier"] == "vip"
    repeat = await svc.escalate(op, subscriber_id="1", topic="roaming", note="again")
    assert repeat["priority"] == 2
    assert repeat["routing"]["repeat"] == 1
    svc.config.declare_outage("Тверь", "base station down")
    outage = await svc.escalate(op, subscriber_id="3", topic="roaming", note="n")
    assert outage["priority"] == 2
    assert outage["routing"]["outage"] is True
    assert (
        outage["first_response_due"] < plain["first_response_due"] or outage["priority"] < plain["priority"]
    )


async def test_repeat_window_comes_from_the_rules_in_the_database(svc: TicketService, db: Database) -> None:
    op = add_user(db, "op", role="operator")
    first = await svc.escalate(op, subscriber_id="1", topic="sms_problem", note="n")
    with db.session() as s:
        s.get(Ticket, first["id"]).created_at = utcnow() - timedelta(days=8)  # type: ignore[union-attr]
    again = await svc.escalate(op, subscriber_id="1", topic="sms_problem", note="n")
    assert again["routing"]["repeat"] == 0
    assert again["priority"] == 3
    svc.config.save_setting(
        "priority_rules", {"arpu_tiers": [], "repeat_window_days": 10, "repeat_bump": 2, "outage_bump": 1}
    )
    third = await svc.escalate(op, subscriber_id="1", topic="sms_problem", note="n")
    assert third["routing"]["repeat"] == 2
    assert third["priority"] == 1


async def test_auto_assignment_picks_the_least_loaded_online_engineer_with_the_skills(
    svc: TicketService, db: Database, hub: Hub
) -> None:
    op = add_user(db, "op", role="operator")
    busy = add_user(db, "busy", skills=["roaming"], group="services")
    free = add_user(db, "free", skills=["roaming", "sim_replacement"], group="services")
    add_user(db, "away", presence="offline", skills=["roaming"], group="services")
    add_user(db, "noskill", skills=["mobile_data"], group="services")
    free_screen = hub.register(free.id, "tech_support")
    svc.config.save_setting("auto_assign", False)
    t0 = await svc.escalate(op, subscriber_id="1", topic="roaming", note="n")
    await svc.act(busy, t0["id"], "take", expected_version=t0["version"])
    svc.config.save_setting("auto_assign", True)
    t1 = await svc.escalate(op, subscriber_id="3", topic="roaming", note="n")
    assert t1["state"] == "assigned"
    assert t1["assignee_id"] == free.id
    assert t1["assignee_name"] == "Free"
    assert "ticket.assigned" in [m["type"] for m in drain(free_screen)]


async def test_take_resolve_and_the_history_of_each_step(svc: TicketService, db: Database) -> None:
    op = add_user(db, "op", role="operator")
    eng = add_user(db, "eng", skills=["no_network"], group="network")
    svc.config.save_setting("auto_assign", False)
    t = await svc.escalate(op, subscriber_id="1", topic="no_network", note="n")
    t = await svc.act(eng, t["id"], "take", expected_version=t["version"])
    assert t["state"] == "in_progress"
    assert t["assignee_id"] == eng.id
    assert t["first_response_at"]
    t = await svc.act(eng, t["id"], "wait", expected_version=t["version"], text="asked for the address")
    t = await svc.act(eng, t["id"], "resume", expected_version=t["version"])
    with pytest.raises(BadTicket, match="how the problem was solved"):
        await svc.act(eng, t["id"], "resolve", expected_version=t["version"])
    t = await svc.act(eng, t["id"], "resolve", expected_version=t["version"], text="re-provisioned the SIM")
    assert t["state"] == "resolved"
    assert t["resolution"] == "re-provisioned the SIM"
    t = await svc.act(eng, t["id"], "close", expected_version=t["version"])
    t = await svc.act(eng, t["id"], "reopen", expected_version=t["version"])
    assert t["state"] == "new"
    assert t["reopen_count"] == 1
    assert t["assignee_id"] is None
    steps = [(h["from"], h["to"]) for h in svc.detail(eng, t["id"])["history"]]
    assert steps == [
        (None, "new"),
        ("new", "in_progress"),
        ("in_progress", "waiting"),
        ("waiting", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
        ("closed", "new"),
    ]


async def test_invalid_transition_is_a_409_and_changes_nothing(svc: TicketService, db: Database) -> None:
    op = add_user(db, "op", role="operator")
    eng = add_user(db, "eng", skills=["sms_problem"])
    svc.config.save_setting("auto_assign", False)
    t = await svc.escalate(op, subscriber_id="1", topic="sms_problem", note="n")
    with pytest.raises(InvalidTransition) as exc:
        await svc.act(eng, t["id"], "resolve", expected_version=t["version"], text="done")
    assert exc.value.status == 409
    assert "take the ticket first" in exc.value.message
    with db.session() as s:
        row = s.get(Ticket, t["id"])
        assert row is not None
        assert row.state == "new"
        assert row.version == t["version"]
        assert row.resolution is None


async def test_stale_update_is_a_conflict_and_overwrites_nothing(svc: TicketService, db: Database) -> None:
    op = add_user(db, "op", role="operator")
    eng = add_user(db, "eng", skills=["sms_problem"])
    sup = add_user(db, "sup", role="supervisor")
    svc.config.save_setting("auto_assign", False)
    t = await svc.escalate(op, subscriber_id="1", topic="sms_problem", note="n")
    seen = t["version"]
    taken = await svc.act(eng, t["id"], "take", expected_version=seen)
    await svc.act(eng, t["id"], "wait", expected_version=taken["version"], text="asked for details")
    with pytest.raises(Conflict) as exc:  # the supervisor's screen still shows the ticket as new
        await svc.act(sup, t["id"], "assign", expected_version=seen, assignee_id=eng.id)
    assert exc.value.error_id == "stale_version"
    with db.session() as s:
        row = s.get(Ticket, t["id"])
        assert row is not None
        assert row.state == "waiting"
        assert row.assignee_id == eng.id


async def test_engineer_without_the_skills_cannot_take_and_take_next_skips_it(
    svc: TicketService, db: Database
) -> None:
    op = add_user(db, "op", role="operator")
    eng = add_user(db, "eng", skills=["sms_problem"], group="network")
    svc.config.save_setting("auto_assign", False)
    roaming = await svc.escalate(op, subscriber_id="2", topic="roaming", note="n")  # vip: priority 2
    low = await svc.escalate(op, subscriber_id="1", topic="sms_problem", note="n")
    urgent = await svc.escalate(op, subscriber_id="2", topic="sms_problem", note="n")
    with pytest.raises(Forbidden, match="skills"):
        await svc.act(eng, roaming["id"], "take", expected_version=roaming["version"])
    first = await svc.take_next(eng)
    assert first is not None
    assert first["id"] == urgent["id"]
    assert first["state"] == "in_progress"
    second = await svc.take_next(eng)
    assert second is not None
    assert second["id"] == low["id"]
    assert await svc.take_next(eng) is None


async def test_comments_are_sanitised_and_attachments_limited(svc: TicketService, db: Database) -> None:
    op = add_user(db, "op", role="operator")
    eng = add_user(db, "eng", skills=["sms_problem"])
    t = await svc.escalate(op, subscriber_id="1", topic="sms_problem", note="n")
    c = await svc.comment(
        eng, t["id"], "Checked **SMSC** <script>alert(1)</script><img src=x onerror=alert(2)>"
    )
    assert "<strong>SMSC</strong>" in c["body_html"]
    assert "<script" not in c["body_html"]
    assert "<img" not in c["body_html"]
    assert "&lt;script&gt;" in c["body_html"]  # shown as text, not run
    with pytest.raises(TooLarge):
        svc.attach(eng, t["id"], "huge.pdf", "application/pdf", b"%PDF-" + b"0" * MAX_ATTACHMENT_BYTES)
    ok = svc.attach(eng, t["id"], "log.txt", "text/plain", b"SMSC timeout 12:01")
    with db.session() as s:
        assert s.scalars(
            select(TicketAttachment.filename).where(TicketAttachment.ticket_id == t["id"])
        ).all() == ["log.txt"]
    assert svc.attachment(t["id"], ok["id"]) == ("log.txt", "text/plain", b"SMSC timeout 12:01")
    with pytest.raises(BadTicket):
        await svc.comment(eng, t["id"], "   ")


async def test_sla_breach_escalates_to_supervisors_once_and_raises_priority(
    svc: TicketService, db: Database, hub: Hub
) -> None:
    op = add_user(db, "op", role="operator")
    sup = add_user(db, "sup", role="supervisor")
    board = hub.register(sup.id, "supervisor")
    t = await svc.escalate(op, subscriber_id="1", topic="sms_problem", note="n")
    drain(board)
    later = utcnow() + timedelta(days=30)
    first = await sla.sweep_once(svc, later)
    assert first["breaches"] == 2  # first response and resolution both overdue
    again = await sla.sweep_once(svc, later + timedelta(hours=1))
    assert again["breaches"] == 0
    breaches = [m for m in drain(board) if m["type"] == "ticket.sla_breach"]
    assert sorted(m["which"] for m in breaches) == ["first_response", "resolution"]
    with db.session() as s:
        row = s.get(Ticket, t["id"])
        assert row is not None
        assert row.priority == t["priority"] - 1
        assert row.resolution_breached_at is not None


async def test_engineer_going_offline_returns_their_tickets_to_the_queue(
    svc: TicketService, db: Database
) -> None:
    op = add_user(db, "op", role="operator")
    eng = add_user(db, "eng", skills=["sms_problem"])
    svc.config.save_setting("auto_assign", False)
    t = await svc.escalate(op, subscriber_id="1", topic="sms_problem", note="n")
    await svc.act(eng, t["id"], "take", expected_version=t["version"])
    assert await sla.on_presence(svc, eng.id, "offline") == 1
    with db.session() as s:
        row = s.get(Ticket, t["id"])
        assert row is not None
        assert row.state == "new"
        assert row.assignee_id is None
    assert [h["kind"] for h in svc.detail(eng, t["id"])["history"]][-1] == "returned_to_queue"


async def test_card_section_lists_open_and_recently_resolved_tickets(
    svc: TicketService, db: Database
) -> None:
    op = add_user(db, "op", role="operator")
    eng = add_user(db, "eng", skills=["sms_problem", "roaming"], group=None)
    svc.config.save_setting("auto_assign", False)
    a = await svc.escalate(op, subscriber_id="1", topic="sms_problem", note="n")
    b = await svc.escalate(op, subscriber_id="1", topic="roaming", note="n")
    await svc.escalate(op, subscriber_id="3", topic="roaming", note="other subscriber")
    a = await svc.act(eng, a["id"], "take", expected_version=a["version"])
    await svc.act(eng, a["id"], "resolve", expected_version=a["version"], text="fixed")
    section = svc.for_subscriber("1")
    assert {(x["id"], x["state"]) for x in section} == {(a["id"], "resolved"), (b["id"], "new")}
    assert svc.for_subscriber("1", now=utcnow() + timedelta(days=40)) == [
        x for x in section if x["state"] == "new"
    ]


async def test_bad_escalations_are_refused_with_a_reason(svc: TicketService, db: Database) -> None:
    op = add_user(db, "op", role="operator")
    with pytest.raises(BadTicket, match="describe the problem"):
        await svc.escalate(op, subscriber_id="1", topic="sms_problem", note="  ")
    with pytest.raises(BadTicket, match="topic"):
        await svc.escalate(op, subscriber_id="1", topic="SMS; drop table", note="n")
    with db.session() as s:
        assert s.scalar(select(Ticket.id)) is None


def test_the_migration_made_every_ticket_table(db_url: str, tmp_path: Path) -> None:
    from sqlalchemy import inspect

    eng = Database(db_url).engine
    names = set(inspect(eng).get_table_names())
    assert {
        "tickets",
        "ticket_events",
        "ticket_comments",
        "ticket_attachments",
        "ticket_topic_routes",
        "ticket_sla_targets",
        "ticket_routing_settings",
        "ticket_outages",
    } <= names
    eng.dispose()


async def test_build_wires_the_card_section_the_scheduler_and_the_offline_hook(
    db: Database, billing: MemoryBilling, tmp_path: Path
) -> None:
    from workstation.bootstrap import bootstrap
    from workstation.settings import Settings
    from workstation.tickets import feature

    bus = MemoryBus()
    container = bootstrap(
        Settings(data_dir=tmp_path), db=db, bus=bus, billing=billing, telephony=False, features=(feature,)
    )
    assert container.tickets is not None
    svc = container.tickets.tickets
    op = add_user(db, "op", role="operator")
    eng = add_user(db, "eng", skills=["sms_problem"])
    t = await svc.escalate(op, subscriber_id="1", topic="sms_problem", note="n")
    assert t["assignee_id"] == eng.id
    assert t["state"] == "assigned"
    section = await container.card_sections["tickets"]("1", op)
    assert [x["id"] for x in section] == [t["id"]]
    assert len(container.background) == 1
    # the engineer goes offline: presence changes are announced to supervisors as floor.changed
    await bus.publish("role.supervisor", {"type": "floor.changed", "user_id": eng.id, "presence": "offline"})
    with db.session() as s:
        row = s.get(Ticket, t["id"])
        assert row is not None
        assert row.state == "new"
        assert row.assignee_id is None


def test_migration_matches_the_models(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from workstation import models_all  # noqa: F401
    from workstation.db import Base

    mine = {
        "tickets",
        "ticket_events",
        "ticket_comments",
        "ticket_attachments",
        "ticket_topic_routes",
        "ticket_sla_targets",
        "ticket_routing_settings",
        "ticket_outages",
        "kb_articles",
        "kb_article_versions",
        "kb_article_topics",
        "kb_scripts",
    }
    eng = Database(db_url).engine
    with eng.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    eng.dispose()

    def table_of(d: Any) -> str | None:
        import sqlalchemy as sa

        for entry in d if isinstance(d, list) else [d]:
            for x in entry[1:]:
                if isinstance(x, sa.Table):
                    return str(x.name)
                table = getattr(x, "table", None)
                if isinstance(table, sa.Table):
                    return str(table.name)
                if isinstance(x, str) and x in mine:
                    return x
        return None

    mine_diffs = [d for d in diffs if table_of(d) in mine]
    # the search index column (PostgreSQL) is created by the migration on purpose and is not mapped
    mine_diffs = [d for d in mine_diffs if "search_tsv" not in repr(d)]
    assert mine_diffs == []


async def test_waiting_for_the_subscriber_pauses_the_resolution_clock(
    svc: TicketService, db: Database
) -> None:
    op = add_user(db, "op", role="operator")
    eng = add_user(db, "eng", skills=["sms_problem"])
    svc.config.save_setting("auto_assign", False)
    t = await svc.escalate(op, subscriber_id="1", topic="sms_problem", note="n")
    t = await svc.act(eng, t["id"], "take", expected_version=t["version"])
    t = await svc.act(eng, t["id"], "wait", expected_version=t["version"], text="send a screenshot, please")
    much_later = utcnow() + timedelta(days=30)
    assert (await sla.sweep_once(svc, much_later))["breaches"] == 0  # waiting: nobody's fault but the clock's
    with db.session() as s:  # three days of waiting pass
        row = s.get(Ticket, t["id"])
        assert row is not None
        row.waiting_since = utcnow() - timedelta(days=3)
    before = t["resolution_due"]
    t = await svc.act(eng, t["id"], "resume", expected_version=t["version"] + 1)
    from datetime import datetime

    moved = datetime.fromisoformat(t["resolution_due"]) - datetime.fromisoformat(before)
    assert timedelta(days=3) <= moved < timedelta(days=3, minutes=1)
