"""Request records (обращения): create while typing, finish with topics and outcome, list per subscriber.

Finishing a record for a call ends the operator's after-call work (``CallService.finish_wrapup``). The
record keeps what the operator was shown (suggestions and their ranks) and which rank was accepted, and
every finished record becomes a label for the classifier (``training_store``: the note scrubbed of
personal data, the chosen topic). Timings come from the call row.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workstation.db import Database, utcnow
from workstation.errors import Conflict, DomainError, Forbidden, NotFound
from workstation.models import Call, User
from workstation.records import training_store
from workstation.records.models import OUTCOMES, RecordTopic, RequestRecord
from workstation.records.topics import TopicService

log = logging.getLogger(__name__)

MAX_NOTE_CHARS = 20_000
MAX_TOPICS = 5
SUPERVISING = ("supervisor", "admin")


@dataclass
class RecordInput:
    """What the operator's panel sends. ``shown``: the suggestions on screen ([{code, confidence}])."""

    note: str = ""
    topics: list[str] = field(default_factory=list)
    outcome: str | None = None
    call_id: str | None = None
    subscriber_id: str | None = None
    shown: list[dict[str, Any]] = field(default_factory=list)
    abstained: bool = False
    model_version: int | None = None
    context: dict[str, Any] = field(default_factory=dict)


def _aware(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    a, b = _aware(a), _aware(b)
    if a is None or b is None:
        return None
    return round(max(0.0, (b - a).total_seconds()), 1)


def timings(call: Call, finished_at: datetime) -> dict[str, float | None]:
    """wait (queue), ring, talk and after-call work of a call, in seconds (None when unknown)."""
    return {
        "wait_s": _seconds(call.queued_at, call.offered_at or call.answered_at),
        "ring_s": _seconds(call.offered_at, call.answered_at),
        "talk_s": _seconds(call.answered_at, call.ended_at),
        "acw_s": _seconds(call.ended_at, finished_at) if call.ended_at else None,
    }


def record_dict(r: RequestRecord, operator_name: str | None = None) -> dict[str, Any]:
    return {
        "id": r.id,
        "call_id": r.call_id,
        "subscriber_id": r.subscriber_id,
        "operator_id": r.operator_id,
        "operator": operator_name,
        "note": r.note,
        "note_truncated": r.note_truncated,
        "status": r.status,
        "outcome": r.outcome,
        "abstained": r.abstained,
        "accepted_rank": r.accepted_rank,
        "suggestions": r.suggestions,
        "model_version": r.model_version,
        "topics": [
            {
                "code": rt.topic.code,
                "name_ru": rt.topic.name_ru,
                "name_en": rt.topic.name_en,
                "archived": rt.topic.archived,
                "suggested_rank": rt.suggested_rank,
                "source": rt.source,
            }
            for rt in r.topics
        ],
        "wait_s": r.wait_s,
        "ring_s": r.ring_s,
        "talk_s": r.talk_s,
        "acw_s": r.acw_s,
        "created_at": _aware(r.created_at).isoformat() if r.created_at else None,  # type: ignore[union-attr]
        "finished_at": _aware(r.finished_at).isoformat() if r.finished_at else None,  # type: ignore[union-attr]
    }


class RecordService:
    def __init__(self, db: Database, topics: TopicService, calls: Any = None, hub: Any = None):
        self.db = db
        self.topics = topics
        self.calls = calls
        self.hub = hub

    # ---- validation --------------------------------------------------------------------------
    def _clean(self, data: RecordInput, finishing: bool) -> tuple[str, bool, list[str]]:
        note = (data.note or "").strip()
        truncated = len(note) > MAX_NOTE_CHARS
        note = note[:MAX_NOTE_CHARS]
        codes = list(dict.fromkeys(c.strip() for c in data.topics if c and c.strip()))
        if len(codes) > MAX_TOPICS:
            raise DomainError(f"at most {MAX_TOPICS} topics per request", error_id="too_many_topics")
        known = self.topics.by_code()
        leaves = self.topics.leaf_codes(include_archived=True)
        for c in codes:
            if c not in known or c not in leaves:
                raise DomainError(f"unknown topic {c}", error_id="unknown_topic", details={"code": c})
            if known[c]["archived"]:
                raise DomainError(
                    f"topic {c} is archived; choose another", error_id="topic_archived", details={"code": c}
                )
        if finishing and data.outcome == "no_record":
            if codes:
                raise DomainError("a call recorded as 'no record' has no topics", error_id="no_record_topics")
        elif finishing:
            if not codes:
                raise DomainError("choose at least one topic (or Other with a note)", error_id="no_topic")
            if data.outcome not in OUTCOMES:
                raise DomainError(f"outcome must be one of {', '.join(OUTCOMES)}", error_id="bad_outcome")
            if "other" in codes and not note:
                raise DomainError(
                    "describe the request in the note when choosing Other", error_id="note_required"
                )
        elif data.outcome is not None and data.outcome not in OUTCOMES:
            raise DomainError(f"outcome must be one of {', '.join(OUTCOMES)}", error_id="bad_outcome")
        return note, truncated, codes

    def _check_call(self, s: Any, call_id: str | None, user: User) -> Call | None:
        if not call_id:
            return None
        call = s.get(Call, call_id)
        if call is None:
            raise NotFound("no such call", error_id="call_not_found", details={"call_id": call_id})
        if call.operator_id != user.id and user.role not in SUPERVISING:
            raise Conflict("this call is not on your screen", error_id="not_your_call")
        return call

    def _apply(
        self, s: Any, rec: RequestRecord, data: RecordInput, note: str, truncated: bool, codes: list[str]
    ) -> None:
        rec.note, rec.note_truncated = note, truncated
        rec.outcome = data.outcome
        shown: list[dict[str, Any]] = []
        ranks: dict[str, int] = {}
        for i, x in enumerate(data.shown[:5]):
            if isinstance(x, dict) and x.get("code"):
                shown.append(
                    {"code": str(x["code"]), "confidence": float(x.get("confidence") or 0), "rank": i + 1}
                )
                ranks[str(x["code"])] = i + 1
        rec.suggestions = shown
        rec.abstained = bool(data.abstained)
        rec.best_confidence = max((float(x["confidence"]) for x in shown), default=None)
        rec.model_version = data.model_version
        rec.context = {k: bool(v) for k, v in (data.context or {}).items() if isinstance(k, str)}
        rec.accepted_rank = ranks.get(codes[0]) if codes else None
        known = self.topics.by_code()
        keep_promoted = [rt for rt in rec.topics if rt.source == "promoted" and rt.topic.code not in codes]
        rec.topics = [
            RecordTopic(topic_id=known[c]["id"], position=i, suggested_rank=ranks.get(c))
            for i, c in enumerate(codes)
        ] + keep_promoted

    # ---- commands ------------------------------------------------------------------------------
    def create(self, user: User, data: RecordInput, finish: bool = False) -> dict[str, Any]:
        note, truncated, codes = self._clean(data, finish)
        with self.db.session() as s:
            call = self._check_call(s, data.call_id, user)
            rec = RequestRecord(
                call_id=data.call_id,
                operator_id=user.id,
                status="open",
                created_at=utcnow(),
                subscriber_id=data.subscriber_id or (call.subscriber_id if call else None),
            )
            s.add(rec)
            return self._save(s, rec, data, (note, truncated, codes), call, finish, user)

    def update(self, user: User, record_id: int, data: RecordInput, finish: bool = False) -> dict[str, Any]:
        note, truncated, codes = self._clean(data, finish)
        with self.db.session() as s:
            rec = s.get(RequestRecord, record_id)
            if rec is None:
                raise NotFound("no such request record", error_id="record_not_found")
            if rec.operator_id != user.id and user.role not in SUPERVISING:
                raise Forbidden("this record belongs to another operator", error_id="not_your_record")
            if rec.status == "finished":
                raise Conflict("the record is finished already", error_id="record_finished")
            if data.call_id and data.call_id != rec.call_id:
                raise Conflict("a record cannot move to another call", error_id="record_call_fixed")
            call = s.get(Call, rec.call_id) if rec.call_id else None
            if data.subscriber_id and not rec.subscriber_id:
                rec.subscriber_id = data.subscriber_id
            return self._save(s, rec, data, (note, truncated, codes), call, finish, user)

    def _save(
        self,
        s: Session,
        rec: RequestRecord,
        data: RecordInput,
        cleaned: tuple[str, bool, list[str]],
        call: Call | None,
        finish: bool,
        user: User,
    ) -> dict[str, Any]:
        """The input on the row; a finished record ends the call's after-call work and is learnt from."""
        self._apply(s, rec, data, *cleaned)
        if finish:
            self._finish_row(rec, call)
        s.flush()
        if finish:  # the classifier learns from it (scrubbed note + chosen topic)
            training_store.store(s, rec)
        return record_dict(rec, user.display_name)

    @staticmethod
    def _finish_row(rec: RequestRecord, call: Call | None) -> None:
        rec.status = "finished"
        rec.finished_at = utcnow()
        if call is not None:
            for k, v in timings(call, rec.finished_at).items():
                setattr(rec, k, v)

    async def save(
        self, user: User, data: RecordInput, record_id: int | None, finish: bool
    ) -> dict[str, Any]:
        """Create or update; when finishing a call's record, end the operator's after-call work."""
        if record_id is None:
            out = await asyncio.to_thread(self.create, user, data, finish)
        else:
            out = await asyncio.to_thread(self.update, user, record_id, data, finish)
        out["wrapup"] = None
        if finish and out["call_id"] and self.calls is not None:
            try:
                await self.calls.finish_wrapup(out["call_id"], user)
                out["wrapup"] = "finished"
            except (Conflict, NotFound) as exc:  # the record is saved either way
                log.info("record %s: after-call work not finished (%s)", out["id"], exc.error_id)
                out["wrapup"] = exc.error_id
        if finish and self.hub is not None:
            # supervisors' statistics refresh live; topic codes only, no personal data
            topics = [x["code"] for x in out["topics"]]
            # call, operator and outcome feed first-contact resolution (workstation/kpis)
            await self.hub.send_to_role(
                "supervisor",
                {
                    "type": "records.finished",
                    "topics": topics,
                    "call_id": out["call_id"],
                    "operator_id": out["operator_id"],
                    "outcome": out.get("outcome"),
                },
            )
        return out

    # ---- reads ---------------------------------------------------------------------------------
    def for_subscriber(self, subscriber_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """A subscriber's previous requests with their topics, newest first."""
        with self.db.session() as s:
            rows = s.scalars(
                select(RequestRecord)
                .where(RequestRecord.subscriber_id == subscriber_id)
                .order_by(RequestRecord.created_at.desc(), RequestRecord.id.desc())
                .limit(limit)
            ).all()
            names = dict(
                s.execute(
                    select(User.id, User.display_name).where(
                        User.id.in_({r.operator_id for r in rows if r.operator_id})
                    )
                ).all()
            )
            return [record_dict(r, names.get(r.operator_id) if r.operator_id else None) for r in rows]

    def get(self, record_id: int) -> dict[str, Any]:
        with self.db.session() as s:
            rec = s.get(RequestRecord, record_id)
            if rec is None:
                raise NotFound("no such request record", error_id="record_not_found")
            return record_dict(rec)

    async def card_section(self, subscriber_id: str, user: Any) -> list[dict[str, Any]]:
        """``container.card_sections["requests"]``: previous requests, newest first."""
        return await asyncio.to_thread(self.for_subscriber, subscriber_id, 10)
