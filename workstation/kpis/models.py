"""Tables of the contact-center figures: the operators' state log (one row per state an operator entered,
closed by the next) and the hourly roll-up the reports read (``rollup.py``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from workstation.db import Base, UtcDateTime

NO_OPERATOR = 0


class AgentStateRow(Base):
    __tablename__ = "agent_states"
    __table_args__ = (
        Index("ix_agent_states_user_started", "user_id", "started_at"),
        Index(
            "ix_agent_states_open",
            "user_id",
            postgresql_where=text("ended_at IS NULL"),
            sqlite_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class KpiHourly(Base):
    """Counts of the calls that reached the floor in one UTC hour, per queue ("" = direct) and operator (0 =
    none); the operators' busy / ready seconds sit on their rows of queue ""."""

    __tablename__ = "kpi_hourly"

    slot: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    queue: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
    operator_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=NO_OPERATOR)
    offered: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    answered_in_sl: Mapped[int] = mapped_column(Integer, default=0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    abandoned_short: Mapped[int] = mapped_column(Integer, default=0)
    abandoned_in_sl: Mapped[int] = mapped_column(Integer, default=0)
    wait_answered_s: Mapped[int] = mapped_column(Integer, default=0)
    talked: Mapped[int] = mapped_column(Integer, default=0)
    talk_s: Mapped[int] = mapped_column(Integer, default=0)
    acw_done: Mapped[int] = mapped_column(Integer, default=0)
    acw_s: Mapped[int] = mapped_column(Integer, default=0)
    answered_all: Mapped[int] = mapped_column(Integer, default=0)
    fcr_resolved: Mapped[int] = mapped_column(Integer, default=0)
    fcr_total: Mapped[int] = mapped_column(Integer, default=0)
    busy_s: Mapped[float] = mapped_column(Float, default=0.0)
    ready_s: Mapped[float] = mapped_column(Float, default=0.0)
