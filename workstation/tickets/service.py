"""Tickets as the operator, the engineer and the supervisor use them.

Every change runs in one transaction guarded by the ticket's version: an action based on a version
that is no longer current, or racing another engineer's, is a ``Conflict`` and changes nothing.
Database work is synchronous and runs in a worker thread; the public methods are coroutines that
push the result to screens once it is committed.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from knowledge_base.render import render_markdown
from workstation.db import Database, utcnow
from workstation.errors import Conflict, DomainError, Forbidden, NotFound
from workstation.models import User
from workstation.tickets import routing
from workstation.tickets.attachments import MAX_ATTACHMENTS_PER_TICKET, BadAttachment, check_attachment
from workstation.tickets.config_store import ConfigStore
from workstation.tickets.models import Ticket, TicketAttachment, TicketComment
from workstation.tickets.notifier import TicketNotifier
from workstation.tickets.reads import TicketReads
from workstation.tickets.states import next_state

MAX_NOTE_CHARS = 4000
MAX_COMMENT_CHARS = 10_000
SUPERVISORS = ("supervisor", "admin")
_CODE = re.compile(r"^[a-z0-9_]{1,64}$")


class BadTicket(DomainError):
    status = 422
    error_id = "bad_ticket"


def _stale(expected: int | None, current: int | None = None) -> Conflict:
    return Conflict(
        "the ticket was changed meanwhile: reload it and try again",
        error_id="stale_version",
        details={"expected": expected, "current": current},
    )


class TicketService(TicketReads):
    def __init__(self, db: Database, billing: Any, hub: Any = None, config: ConfigStore | None = None):
        self.db = db
        self.billing = billing
        self.config = config or ConfigStore(db)
        self.roster = routing.Roster()
        self.notifier = TicketNotifier(hub)

    # ------------------------------------------------------------------ escalate
    async def escalate(
        self, user: User, *, subscriber_id: str, topic: str, note: str, call_id: str | None = None
    ) -> dict[str, Any]:
        """Turn the operator's request into a ticket with a snapshot of the card; routes and pushes it."""
        subscriber_id = (subscriber_id or "").strip()
        topic = (topic or "").strip()
        note = (note or "").strip()
        if not subscriber_id or len(subscriber_id) > 64:
            raise BadTicket("choose the subscriber first", error_id="ticket_no_subscriber")
        if not _CODE.match(topic):
            raise BadTicket(
                "choose the topic of the request", error_id="ticket_no_topic", details={"topic": topic[:64]}
            )
        if not note:
            raise BadTicket(
                "describe the problem in the note: what was tried, what the subscriber sees",
                error_id="ticket_note_required",
            )
        if len(note) > MAX_NOTE_CHARS:
            raise BadTicket(
                f"the note is longer than {MAX_NOTE_CHARS} characters",
                error_id="ticket_note_too_long",
                details={"max": MAX_NOTE_CHARS},
            )
        lookup = await self.billing.get_card(subscriber_id)
        card = lookup.card
        if card is None and lookup.state != "unavailable":
            raise NotFound(f"no subscriber {subscriber_id}", error_id="subscriber_not_found")
        snapshot = card.to_dict() if card else {"subscriber_id": subscriber_id, "unavailable": True}
        summary = await asyncio.to_thread(
            self._create, user.id, subscriber_id, topic, note, snapshot, call_id
        )
        await self.notifier.created(summary)
        return summary

    def _create(
        self,
        user_id: int,
        subscriber_id: str,
        topic: str,
        note: str,
        snapshot: dict[str, Any],
        call_id: str | None,
    ) -> dict[str, Any]:
        cfg = self.config.current()
        now = utcnow()
        arpu = snapshot.get("arpu")
        region = snapshot.get("region")
        with self.db.session() as s:
            d, engineer = routing.route(
                cfg,
                s,
                self.roster,
                topic=topic,
                subscriber_id=subscriber_id,
                arpu=float(arpu) if isinstance(arpu, int | float) else None,
                region=region,
                at=now,
            )
            t = Ticket(
                subscriber_id=subscriber_id,
                topic_code=topic,
                state="new",
                priority=d.priority,
                group=d.group,
                required_skills=list(d.skills),
                note=note,
                card_snapshot=snapshot,
                region=region,
                routing=d.reasons,
                created_by=user_id,
                call_id=call_id,
                created_at=now,
                updated_at=now,
                first_response_due=d.first_response_due,
                resolution_due=d.resolution_due,
            )
            s.add(t)
            s.flush()
            self._event(s, t, "created", user_id, None, "new", priority=d.priority, reasons=d.reasons)
            if engineer is not None:
                t.state, t.assignee_id = "assigned", engineer
                self._event(s, t, "assigned", None, "new", "assigned", assignee_id=engineer, auto=True)
                s.flush()
            return self._summary(s, t)

    # ------------------------------------------------------------------ actions
    async def act(
        self,
        user: User,
        ticket_id: int,
        action: str,
        *,
        expected_version: int | None,
        text: str | None = None,
        assignee_id: int | None = None,
    ) -> dict[str, Any]:
        """Apply a state-machine action (take, start, release, wait, resume, resolve, close, reopen, assign)."""
        summary, prev = await asyncio.to_thread(
            self._act, user, ticket_id, action, expected_version, text, assignee_id
        )
        await self.notifier.updated(summary, previous_assignee=prev)
        return summary

    def _act(
        self,
        user: User,
        ticket_id: int,
        action: str,
        expected_version: int | None,
        text: str | None,
        assignee_id: int | None,
    ) -> tuple[dict[str, Any], int | None]:
        text = (text or "").strip()
        if len(text) > MAX_COMMENT_CHARS:
            raise BadTicket(
                f"the text is longer than {MAX_COMMENT_CHARS} characters",
                error_id="text_too_long",
                details={"max": MAX_COMMENT_CHARS},
            )
        try:
            with self.db.session() as s:
                t = self._load(s, ticket_id)
                # who may act at all comes first: a 409 (stale version, wrong state) would tell anyone
                # else the ticket's state
                self._check_role(user, t, action)
                if expected_version is not None and t.version != expected_version:
                    raise _stale(expected_version, t.version)
                prev_assignee, frm = t.assignee_id, t.state
                to = next_state(t.state, action)
                self._check_allowed(s, user, t, action, assignee_id)
                now = utcnow()
                if action == "take":
                    t.assignee_id = user.id
                elif action == "assign":
                    t.assignee_id = assignee_id
                elif action in ("release", "reopen"):
                    t.assignee_id = None
                if action == "resolve":
                    if not text:
                        raise BadTicket("say how the problem was solved", error_id="resolution_required")
                    t.resolution, t.resolved_at = text, now
                elif action == "close":
                    t.closed_at = now
                elif action == "reopen":
                    t.reopen_count += 1
                    t.resolved_at = t.closed_at = None
                if action == "wait":
                    t.waiting_since = now
                elif t.waiting_since is not None:  # leaving "waiting": the subscriber's time is not ours
                    if t.resolution_due is not None:
                        t.resolution_due = t.resolution_due + (now - t.waiting_since)
                    t.waiting_since = None
                if action in ("take", "start", "wait", "resolve") and t.first_response_at is None:
                    t.first_response_at = now
                t.state, t.updated_at = to, now
                s.flush()  # version guard: UPDATE … WHERE version = :seen
                self._event(
                    s,
                    t,
                    "state",
                    user.id,
                    frm,
                    to,
                    action=action,
                    **({"text": text} if text else {}),
                    **({"assignee_id": t.assignee_id} if t.assignee_id != prev_assignee else {}),
                )
                return self._summary(s, t), prev_assignee
        except StaleDataError:
            raise _stale(expected_version) from None

    @staticmethod
    def _check_role(user: User, t: Ticket, action: str) -> None:
        reopening_own = action == "reopen" and user.id == t.created_by
        if user.role not in ("tech_support", *SUPERVISORS) and not reopening_own:
            raise Forbidden("only technical support works tickets", error_id="support_only")

    def _check_allowed(self, s: Session, user: User, t: Ticket, action: str, assignee_id: int | None) -> None:
        supervisor = user.role in SUPERVISORS
        self._check_role(user, t, action)
        if action == "assign":
            if not supervisor:
                raise Forbidden("only a supervisor assigns tickets", error_id="assign_supervisor_only")
            target = s.get(User, assignee_id) if assignee_id else None
            if target is None or target.role != "tech_support" or not target.active:
                raise BadTicket("choose an active technical support engineer", error_id="bad_assignee")
        if action == "take" and not supervisor:
            if t.state == "assigned" and t.assignee_id not in (None, user.id):
                raise Conflict("this ticket is assigned to another engineer", error_id="taken")
            if not routing.eligible(user, t.group, t.required_skills or []):
                raise Forbidden(
                    "this ticket needs skills you do not have",
                    error_id="missing_skills",
                    details={"needs": t.required_skills, "group": t.group},
                )
        if (
            action in ("start", "wait", "resume", "resolve", "release")
            and not supervisor
            and t.assignee_id != user.id
        ):
            raise Forbidden("this ticket is assigned to another engineer", error_id="assigned_elsewhere")

    async def take_next(self, user: User) -> dict[str, Any] | None:
        """Take the most urgent ticket this engineer may work (their own assigned ones first), or None."""
        summary = await asyncio.to_thread(self._take_next, user)
        if summary is not None:
            await self.notifier.updated(summary)
        return summary

    def _take_next(self, user: User) -> dict[str, Any] | None:
        for _attempt in range(5):
            with self.db.session() as s:
                rows = s.scalars(
                    select(Ticket)
                    .where(
                        or_(
                            Ticket.state == "new",
                            (Ticket.state == "assigned") & (Ticket.assignee_id == user.id),
                        )
                    )
                    .order_by(
                        (Ticket.assignee_id == user.id).desc(),
                        Ticket.priority,
                        Ticket.resolution_due,
                        Ticket.id,
                    )
                    .limit(200)
                ).all()
                candidates = [t for t in rows if routing.eligible(user, t.group, t.required_skills or [])]
                if not candidates:
                    return None
                now = utcnow()
                for t in candidates:
                    won = s.execute(
                        update(Ticket)
                        .where(Ticket.id == t.id, Ticket.version == t.version, Ticket.state == t.state)
                        .values(
                            state="in_progress",
                            assignee_id=user.id,
                            version=Ticket.version + 1,
                            updated_at=now,
                            first_response_at=t.first_response_at or now,
                        )
                        .execution_options(synchronize_session=False)
                    )
                    if getattr(won, "rowcount", 0) == 1:
                        self._event(s, t, "state", user.id, t.state, "in_progress", action="take_next")
                        s.flush()
                        s.expire(t)
                        return self._summary(s, s.get(Ticket, t.id))  # type: ignore[arg-type]
            # every candidate was taken by someone else meanwhile: look again
        return None

    # ------------------------------------------------------------------ comments and attachments
    async def comment(self, user: User, ticket_id: int, body: str) -> dict[str, Any]:
        body = (body or "").strip()
        if not body:
            raise BadTicket("the comment is empty", error_id="comment_empty")
        if len(body) > MAX_COMMENT_CHARS:
            raise BadTicket(
                f"the comment is longer than {MAX_COMMENT_CHARS} characters",
                error_id="text_too_long",
                details={"max": MAX_COMMENT_CHARS},
            )
        result, summary = await asyncio.to_thread(self._comment, user, ticket_id, body)
        await self.notifier.updated(summary)
        return result

    def _comment(self, user: User, ticket_id: int, body: str) -> tuple[dict[str, Any], dict[str, Any]]:
        with self.db.session() as s:
            t = self._load(s, ticket_id)
            c = TicketComment(ticket_id=t.id, author_id=user.id, body=body, body_html=render_markdown(body))
            s.add(c)
            if user.role == "tech_support" and t.first_response_at is None:
                # not a versioned change: a comment never conflicts with someone's state change
                s.execute(
                    update(Ticket)
                    .where(Ticket.id == t.id, Ticket.first_response_at.is_(None))
                    .values(first_response_at=utcnow())
                    .execution_options(synchronize_session=False)
                )
            s.flush()
            self._event(s, t, "comment", user.id, comment_id=c.id)
            s.refresh(t)
            return self._comment_dict(c, user.display_name), self._summary(s, t)

    def attach(
        self, user: User, ticket_id: int, filename: str, content_type: str, data: bytes
    ) -> dict[str, Any]:
        checked = check_attachment(filename, content_type, data)
        with self.db.session() as s:
            t = self._load(s, ticket_id)
            count = len(
                s.scalars(select(TicketAttachment.id).where(TicketAttachment.ticket_id == t.id)).all()
            )
            if count >= MAX_ATTACHMENTS_PER_TICKET:
                raise BadAttachment(
                    f"at most {MAX_ATTACHMENTS_PER_TICKET} files per ticket",
                    error_id="too_many_attachments",
                    details={"max": MAX_ATTACHMENTS_PER_TICKET},
                )
            a = TicketAttachment(
                ticket_id=t.id,
                filename=checked.filename,
                content_type=checked.content_type,
                size=checked.size,
                sha256=checked.sha256,
                data=data,
                uploaded_by=user.id,
            )
            s.add(a)
            s.flush()
            self._event(s, t, "attachment", user.id, attachment_id=a.id, size=a.size)
            return {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
