"""Escalating a request to a ticket on real databases (SQLite and PostgreSQL): what the ticket carries, its
priority, the repeat window, who it is assigned to, refused escalations, the card's ticket section."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.integration.tickets.people import add_user, drain
from workstation.db import Database, utcnow
from workstation.hub import Hub
from workstation.models import AuditLog
from workstation.tickets.models import Ticket
from workstation.tickets.service import BadTicket, TicketService


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
