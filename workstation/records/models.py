"""Tables of request records (обращения): topics, records, their topics, emerging-topic clusters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workstation.db import Base, UtcDateTime, utcnow

OUTCOMES = ("resolved", "escalated", "callback", "no_record")
# "no_record": the operator ended after-call work confirming there was nothing to record (counted, no topic)


class Topic(Base):
    """A node of the two-level topic tree. Other features refer to topics by ``code`` only."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), nullable=True, index=True)
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class RequestRecord(Base):
    """One subscriber request: the note, its topics, the suggestions shown, the outcome and timings."""

    __tablename__ = "request_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str | None] = mapped_column(ForeignKey("calls.id"), nullable=True, index=True)
    subscriber_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    note_truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    # open (being typed) | finished
    status: Mapped[str] = mapped_column(String(16), default="open")
    # resolved | escalated | callback
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # what the operator was shown: [{"code", "confidence", "rank"}]
    suggestions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    abstained: Mapped[bool] = mapped_column(Boolean, default=False)
    # rank (1..3) of the shown suggestion the operator accepted as main topic; None = overridden / none shown
    accepted_rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    best_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    model_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # card context flags used for the suggestion (no personal data)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    wait_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    ring_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    talk_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    acw_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)

    topics: Mapped[list[RecordTopic]] = relationship(
        back_populates="record",
        cascade="all, delete-orphan",
        order_by="RecordTopic.position",
        lazy="selectin",
    )


class RecordTopic(Base):
    """A topic of a record; ``position`` 0 is the main topic. ``source``: operator | promoted."""

    __tablename__ = "record_topics"

    record_id: Mapped[int] = mapped_column(
        ForeignKey("request_records.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    suggested_rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(16), default="operator")

    record: Mapped[RequestRecord] = relationship(back_populates="topics")
    topic: Mapped[Topic] = relationship(lazy="joined")


class EmergingCluster(Base):
    """A cluster of recent free-text / low-confidence notes found by the emerging-topic job."""

    __tablename__ = "emerging_clusters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    # notes with personal data masked
    examples: Mapped[list[str]] = mapped_column(JSON, default=list)
    size: Mapped[int] = mapped_column(Integer, default=0)
    recent: Mapped[int] = mapped_column(Integer, default=0)
    previous: Mapped[int] = mapped_column(Integer, default=0)
    growth: Mapped[float | None] = mapped_column(Float, nullable=True)
    record_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # open | promoted | dismissed | superseded
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), nullable=True)


class TrainingExample(Base):
    """A finished record as the classifier's training data: the note scrubbed of personal data by the
    anonymizer, the main topic (``out_of_scope`` for "Other"), and whether it is in the held-out slice
    that decides whether a retrained model replaces the current one."""

    __tablename__ = "training_examples"

    record_id: Mapped[int] = mapped_column(
        ForeignKey("request_records.id", ondelete="CASCADE"), primary_key=True
    )
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(64))
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    holdout: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
