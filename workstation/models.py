"""Core domain tables: users (operators and other roles), calls, call events, the audit log.

Feature tables live beside their feature (``knowledge_base/models.py``, ``workstation/records/models.py``,
…) on the same ``Base``; ``workstation.models_all`` imports every one of them for Alembic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workstation.db import Base, UtcDateTime, utcnow

ROLES = ("operator", "tech_support", "supervisor", "analyst", "marketing", "admin")


class User(Base):
    """A person who signs in. Operators carry their Asterisk interface and extension."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(32), index=True)
    # Asterisk queue member interface, e.g. "PJSIP/1001" or "Local/1001@agents/n"
    interface: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    extension: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    language: Mapped[str] = mapped_column(String(8), default="ru")
    # the operator screen's remembered layout (open tab, collapsed sections): small, UI-owned keys
    ui_prefs: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # offline | ready | paused | on_call | wrap_up
    presence: Mapped[str] = mapped_column(String(16), default="offline")
    # tech-support skills and group, e.g. ["mobile_data", "roaming"]
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    group: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Call(Base):
    """One subscriber call, keyed by Asterisk's Linkedid (falls back to the caller channel's Uniqueid)."""

    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    caller: Mapped[str] = mapped_column(String(32), index=True)  # normalised E.164 or raw when not a number
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # queued | ringing | connected | wrap_up | ended | abandoned
    state: Mapped[str] = mapped_column(String(16), default="queued")
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    subscriber_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    offered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    wrapup_done_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # contact-center facts (workstation/kpis): the moment the call reached the floor (queue join, or the
    # first ring of a direct call), whole seconds as Asterisk counts them, offers made, after-call work
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)
    wait_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ring_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    talk_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    acw_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    offers: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CallEventRow(Base):
    """The normalised call events of a call, in arrival order (never raw AMI)."""

    __tablename__ = "call_events"
    __table_args__ = (Index("ix_call_events_call_at", "call_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32))
    agent: Mapped[str | None] = mapped_column(String(128), nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuditLog(Base):
    """Who read or moved personal data, when and why: card views, exports, re-links."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    action: Mapped[str] = mapped_column(
        String(64), index=True
    )  # card.view, export.segments, campaign.relink…
    subject: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
