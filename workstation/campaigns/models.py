"""Tables of segmentation exports and campaigns (on workstation.db.Base).

``segment_exports``: one row per export (who, period, k, where the bundle is, its privacy summary).
``campaigns``: an offer to some segments of one export. ``campaign_targets``: the subscribers a campaign
re-linked to (billing ids, kept only in the workstation DB) and what the operator recorded.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workstation.db import Base, UtcDateTime, utcnow

EXPORT_STATES = ("running", "done", "failed")
CAMPAIGN_STATES = ("draft", "active", "finished")
OUTCOMES = ("accepted", "declined", "not_offered")


class SegmentExport(Base):
    """A depersonalised export: its bundle lives at ``path`` (never the key, never a mapping)."""

    __tablename__ = "segment_exports"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    state: Mapped[str] = mapped_column(String(16), default="running")
    month_from: Mapped[str] = mapped_column(String(7))
    month_to: Mapped[str] = mapped_column(String(7))
    k: Mapped[int] = mapped_column(Integer, default=5)
    attributes: Mapped[list[str]] = mapped_column(JSON, default=list)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(64), default="")
    rows: Mapped[int | None] = mapped_column(Integer, nullable=True)
    key_id: Mapped[str] = mapped_column(String(64), default="")
    path: Mapped[str | None] = mapped_column(Text, nullable=True)
    # privacy report + segment profiles (no identifiers, counts only)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Campaign(Base):
    """An offer shown on the cards of the subscribers in ``segments`` of export ``export_id``."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    offer_text: Mapped[str] = mapped_column(Text)
    export_id: Mapped[str] = mapped_column(ForeignKey("segment_exports.id"), index=True)
    # ["tier:premium", "cluster:2"]
    segments: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="active")
    targets_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class CampaignTarget(Base):
    """One re-linked subscriber of a campaign and the operator's outcome when the offer was on screen."""

    __tablename__ = "campaign_targets"
    __table_args__ = (
        UniqueConstraint("campaign_id", "subscriber_id", name="uq_campaign_targets_campaign_id"),
        Index("ix_campaign_targets_subscriber_id", "subscriber_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    subscriber_id: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    outcome_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
