"""Ticket tables: tickets with history, comments and attachments; routing configuration edited in the UI.

Topics are referenced by their stable ``code`` (see ``classifier/topics.py``), never by a foreign key.
``Ticket.version`` is SQLAlchemy's version counter: every update checks it, so a stale update (or the
second of two engineers taking one ticket at once) changes nothing and is reported as a conflict.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workstation.db import Base, UtcDateTime, utcnow
from workstation.models import User  # noqa: F401  (the users table the foreign keys point at)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_queue", "state", "priority", "resolution_due"),
        Index("ix_tickets_subscriber_topic", "subscriber_id", "topic_code", "created_at"),
        Index("ix_tickets_assignee_state", "assignee_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[str] = mapped_column(String(64))
    topic_code: Mapped[str] = mapped_column(String(64))
    # new | assigned | in_progress | waiting | resolved | closed  (see workstation.tickets.states)
    state: Mapped[str] = mapped_column(String(16), default="new")
    priority: Mapped[int] = mapped_column(Integer, default=3)  # 1 critical … 4 low
    group: Mapped[str | None] = mapped_column(String(64), nullable=True)
    required_skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")  # the operator's note (personal data: never logged)
    card_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    region: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # why this priority: {"base": 3, "arpu_tier": "vip", "repeat": 2, "outage": true}
    routing: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    call_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    first_response_due: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    resolution_due: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # set once when the SLA scheduler escalated the breach (so each breach escalates once)
    first_response_breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # while the ticket waits for the subscriber its resolution clock is paused (see TicketService._act)
    waiting_since: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declarative hook)


class TicketEvent(Base):
    """The history of a ticket: every state change, assignment, comment, escalation."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    kind: Mapped[str] = mapped_column(
        String(32)
    )  # created, state, assigned, comment, attachment, sla_breach…
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class TicketComment(Base):
    __tablename__ = "ticket_comments"
    __table_args__ = (Index("ix_ticket_comments_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    body: Mapped[str] = mapped_column(Text)  # as typed
    body_html: Mapped[str] = mapped_column(Text)  # sanitised rendering, safe for innerHTML
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class TicketAttachment(Base):
    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class TopicRoute(Base):
    """Topic → support group, required skills and base priority (the topic-to-group map)."""

    __tablename__ = "ticket_topic_routes"

    topic_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    group: Mapped[str] = mapped_column(String(64))
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    base_priority: Mapped[int] = mapped_column(Integer, default=3)


class SlaTarget(Base):
    """Minutes to first response and to resolution for one priority; counted in business hours or 24/7."""

    __tablename__ = "ticket_sla_targets"

    priority: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_response_min: Mapped[int] = mapped_column(Integer)
    resolution_min: Mapped[int] = mapped_column(Integer)
    business_hours: Mapped[bool] = mapped_column(Boolean, default=True)


class RoutingSetting(Base):
    """Named routing settings as JSON: ``priority_rules``, ``business_hours``, ``auto_assign``."""

    __tablename__ = "ticket_routing_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class RegionOutage(Base):
    """A declared outage in a region: tickets from it get a higher priority while it is active."""

    __tablename__ = "ticket_outages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region: Mapped[str] = mapped_column(String(128), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
