"""The operators' state log: one row per state an operator entered (ready, on_call, wrap_up, paused,
offline), closed by the next. Occupancy and time in state are computed from it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from workstation.db import Base, UtcDateTime


class AgentStateRow(Base):
    __tablename__ = "agent_states"
    __table_args__ = (Index("ix_agent_states_user_started", "user_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
