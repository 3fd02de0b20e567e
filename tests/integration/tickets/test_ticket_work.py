"""Working a ticket on real databases (SQLite and PostgreSQL): the state machine and its history, stale
updates, skills, comments and attachments, SLA escalation, waiting for the subscriber, engineers going offline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.integration.tickets.people import add_user, drain
from workstation.db import Database, utcnow
from workstation.errors import Conflict, Forbidden, TooLarge
from workstation.hub import Hub
from workstation.tickets import sla
from workstation.tickets.attachments import MAX_ATTACHMENT_BYTES
from workstation.tickets.models import Ticket, TicketAttachment
from workstation.tickets.service import BadTicket, TicketService
from workstation.tickets.states import InvalidTransition


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
