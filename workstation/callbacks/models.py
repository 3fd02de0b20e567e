"""The ``callbacks`` table: a promise to call a subscriber back at a time (migration 0006_screen)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workstation.db import Base, UtcDateTime, utcnow

STATES = ("open", "done", "cancelled")


class Callback(Base):
    """A callback an operator promised: whom (card and number), when, why (the record), and its state."""

    __tablename__ = "callbacks"
    __table_args__ = (
        Index("ix_callbacks_operator_state_due", "operator_id", "state", "due_at"),
        Index("ix_callbacks_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    subscriber_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    msisdn: Mapped[str | None] = mapped_column(String(32), nullable=True)
    call_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    record_id: Mapped[int | None] = mapped_column(
        ForeignKey("request_records.id", ondelete="SET NULL"), nullable=True
    )
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
