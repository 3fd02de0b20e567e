"""Reading tickets: the helpers every ticket operation shares, and the views screens ask for (one
ticket with its history, the queue, a subscriber's tickets). ``TicketService`` builds on this."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from billing_adapter.formats import display_number
from workstation import audit
from workstation.db import Database, utcnow
from workstation.errors import NotFound
from workstation.models import User
from workstation.tickets.models import Ticket, TicketAttachment, TicketComment, TicketEvent
from workstation.tickets.notifier import ticket_summary
from workstation.tickets.states import HELD_STATES, OPEN_STATES

RECENT_RESOLVED_DAYS = 30


class TicketReads:
    db: Database

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _names(s: Session, tickets: list[Ticket]) -> dict[int, str]:
        ids = {t.assignee_id for t in tickets if t.assignee_id}
        if not ids:
            return {}
        return {u.id: u.display_name for u in s.scalars(select(User).where(User.id.in_(ids)))}

    def _summary(self, s: Session, t: Ticket) -> dict[str, Any]:
        return ticket_summary(t, self._names(s, [t]))

    @staticmethod
    def _event(
        s: Session,
        t: Ticket,
        kind: str,
        actor: int | None,
        frm: str | None = None,
        to: str | None = None,
        **data: Any,
    ) -> None:
        s.add(TicketEvent(ticket_id=t.id, actor_id=actor, kind=kind, from_state=frm, to_state=to, data=data))

    @staticmethod
    def _load(s: Session, ticket_id: int) -> Ticket:
        t = s.get(Ticket, ticket_id)
        if t is None:
            raise NotFound(f"no ticket {ticket_id}", error_id="ticket_not_found")
        return t

    @staticmethod
    def _comment_dict(c: TicketComment, author: str | None) -> dict[str, Any]:
        return {
            "id": c.id,
            "author_id": c.author_id,
            "author": author,
            "body": c.body,
            "body_html": c.body_html,
            "at": c.at.isoformat(),
        }

    def attachment(self, ticket_id: int, attachment_id: int) -> tuple[str, str, bytes]:
        with self.db.session() as s:
            a = s.get(TicketAttachment, attachment_id)
            if a is None or a.ticket_id != ticket_id:
                raise NotFound(
                    f"no attachment {attachment_id} on ticket {ticket_id}", error_id="attachment_not_found"
                )
            return a.filename, a.content_type, a.data

    # ------------------------------------------------------------------ reads
    def detail(self, user: User, ticket_id: int) -> dict[str, Any]:
        """Everything about one ticket, with the card snapshot (the read is audited)."""
        with self.db.session() as s:
            t = self._load(s, ticket_id)
            events = s.scalars(
                select(TicketEvent).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id)
            ).all()
            comments = s.scalars(
                select(TicketComment).where(TicketComment.ticket_id == t.id).order_by(TicketComment.id)
            ).all()
            atts = s.execute(
                select(
                    TicketAttachment.id,
                    TicketAttachment.filename,
                    TicketAttachment.content_type,
                    TicketAttachment.size,
                ).where(TicketAttachment.ticket_id == t.id)
            ).all()
            people = {e.actor_id for e in events if e.actor_id} | {
                c.author_id for c in comments if c.author_id
            }
            names = (
                {u.id: u.display_name for u in s.scalars(select(User).where(User.id.in_(people)))}
                if people
                else {}
            )
            out = self._summary(s, t)
            out["card"] = dict(t.card_snapshot or {})
            if out["card"].get("msisdn"):
                out["card"]["msisdn_display"] = display_number(out["card"]["msisdn"])
            out["history"] = [
                {
                    "at": e.at.isoformat(),
                    "kind": e.kind,
                    "actor": names.get(e.actor_id or 0),
                    "from": e.from_state,
                    "to": e.to_state,
                    "data": e.data,
                }
                for e in events
            ]
            out["comments"] = [self._comment_dict(c, names.get(c.author_id or 0)) for c in comments]
            out["attachments"] = [
                {"id": a[0], "filename": a[1], "content_type": a[2], "size": a[3]} for a in atts
            ]
        audit.record(
            self.db,
            user_id=user.id,
            action="ticket.card_view",
            subject=t.subscriber_id,
            reason=f"ticket {ticket_id}",
        )
        return out

    def queue(self, user: User, *, scope: str = "open", limit: int = 200) -> list[dict[str, Any]]:
        """Tickets ordered by priority then SLA due: ``open`` (all open), ``mine``, ``queue`` (unassigned)."""
        with self.db.session() as s:
            q = select(Ticket)
            if scope == "mine":
                q = q.where(Ticket.assignee_id == user.id, Ticket.state.in_(HELD_STATES))
            elif scope == "queue":
                q = q.where(Ticket.state == "new")
            elif scope == "resolved":
                q = q.where(Ticket.state.in_(("resolved", "closed")))
            else:
                q = q.where(Ticket.state.in_(OPEN_STATES))
            order = (
                (Ticket.resolved_at.desc(),)
                if scope == "resolved"
                else (Ticket.priority, Ticket.resolution_due)
            )
            rows = s.scalars(q.order_by(*order, Ticket.id).limit(max(1, min(limit, 500)))).all()
            names = self._names(s, list(rows))
            return [ticket_summary(t, names) for t in rows]

    def for_subscriber(self, subscriber_id: str, now: datetime | None = None) -> list[dict[str, Any]]:
        """Open tickets and those resolved lately, newest first (the card's "tickets" section)."""
        since = (now or utcnow()) - timedelta(days=RECENT_RESOLVED_DAYS)
        with self.db.session() as s:
            rows = s.scalars(
                select(Ticket)
                .where(
                    Ticket.subscriber_id == subscriber_id,
                    or_(Ticket.state.in_(OPEN_STATES), Ticket.updated_at >= since),
                )
                .order_by(Ticket.id.desc())
                .limit(20)
            ).all()
            names = self._names(s, list(rows))
            return [ticket_summary(t, names) for t in rows]
