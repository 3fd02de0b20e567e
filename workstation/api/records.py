"""Request records, topic suggestions, the topic tree, statistics, emerging topics, classifier models."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from workstation import audit
from workstation.api.cards import durable_audit
from workstation.api.deps import CallsDep, CallWriterDep, DbDep, RowId, require_roles
from workstation.api.feature_deps import ClassifierDep, EmergingDep, RecordsDep, TopicsDep
from workstation.card_reads import ReasonRequired, is_own_call
from workstation.errors import DomainError
from workstation.models import User
from workstation.records.overrides import override_stats
from workstation.records.service import RecordInput
from workstation.records.stats import topic_stats
from workstation.records.suggest import ClassifierService

log = logging.getLogger(__name__)

router = APIRouter(tags=["records"])

Operator = Annotated[User, Depends(require_roles("operator", "supervisor", "tech_support"))]
Supervisor = Annotated[User, Depends(require_roles("supervisor"))]
StatsReader = Annotated[User, Depends(require_roles("supervisor", "analyst", "marketing"))]

# a pasted note may be long: it is truncated (classification, storage), never refused below the body limit
MAX_NOTE_BODY = 1_100_000


class SuggestIn(BaseModel):
    text: str = Field("", max_length=MAX_NOTE_BODY)
    subscriber_id: str | None = Field(None, max_length=64)
    context: dict[str, bool] | None = None
    k: int = Field(3, ge=1, le=10)
    # at a typing pause: also ask the sentence-embedding stage (20–30 ms; each keystroke asks without)
    refine: bool = False


class ShownSuggestion(BaseModel):
    code: str = Field(max_length=64)
    confidence: float = 0.0


class RecordIn(BaseModel):
    note: str = Field("", max_length=MAX_NOTE_BODY)
    topics: list[str] = Field(default_factory=list, max_length=20)
    outcome: str | None = None
    call_id: str | None = Field(None, min_length=1, max_length=64)
    subscriber_id: str | None = Field(None, min_length=1, max_length=64)
    shown: list[ShownSuggestion] = Field(default_factory=list, max_length=10)
    abstained: bool = False
    model_version: int | None = Field(None, ge=0, le=2**31 - 1)
    context: dict[str, bool] = Field(default_factory=dict)
    finish: bool = False
    # why a record is attached to a subscriber with no call of the operator behind it (audited)
    reason: str | None = Field(None, max_length=200)

    def to_input(self) -> RecordInput:
        return RecordInput(
            note=self.note,
            topics=self.topics,
            outcome=self.outcome,
            call_id=self.call_id,
            subscriber_id=self.subscriber_id,
            shown=[s.model_dump() for s in self.shown],
            abstained=self.abstained,
            model_version=self.model_version,
            context=self.context,
        )


class TopicIn(BaseModel):
    code: str = Field(max_length=64)
    name_ru: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    parent_code: str | None = Field(None, max_length=64)


class TopicPatch(BaseModel):
    name_ru: str | None = Field(None, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    archived: bool | None = None
    parent_code: str | None = Field(None, max_length=64, description="'' moves the topic to the top level")


class PromoteIn(TopicIn):
    retrain: bool = True


# ---- operator ------------------------------------------------------------------------------------
@router.post("/api/records/suggest")
async def suggest(body: SuggestIn, classifier: ClassifierDep, user: Operator) -> dict[str, Any]:
    """Top topics for the note being typed (card context from the subscriber when not given).
    ``refine`` runs the embedding stage in a worker thread, so keystrokes of others never wait on it."""
    svc = classifier
    context = body.context if body.context is not None else await svc.context_for(body.subscriber_id)
    if body.refine:
        return await asyncio.to_thread(svc.suggest, body.text, context, body.k, True)  # type: ignore[no-any-return]
    return svc.suggest(body.text, context, k=body.k)  # type: ignore[no-any-return]


@router.post("/api/records")
async def create_record(
    body: RecordIn, records: RecordsDep, calls: CallsDep, db: DbDep, writer: CallWriterDep, user: Operator
) -> dict[str, Any]:
    """Create a record (``finish: true`` finishes it and ends the call's after-call work).

    An empty record (no note, topic or outcome) is refused; a record on a subscriber needs the operator's
    own call, or a reason (kept in the audit log): records do not attach to any subscriber at will."""
    if not body.note.strip() and not body.topics and not body.outcome:
        raise DomainError("a record needs a note, a topic or an outcome", error_id="record_empty")
    if body.subscriber_id and not await asyncio.to_thread(is_own_call, calls, db, body.call_id, user.id):
        if not body.reason or len(body.reason.strip()) < 3:
            raise ReasonRequired(
                "say why this subscriber gets a record without your call", details={"min_length": 3}
            )
        await durable_audit(writer, user, "record.without_call", body.subscriber_id, {}, reason=body.reason)
    return await records.save(user, body.to_input(), None, body.finish)  # type: ignore[no-any-return]


@router.put("/api/records/{record_id}")
async def update_record(
    record_id: RowId, body: RecordIn, records: RecordsDep, user: Operator
) -> dict[str, Any]:
    return await records.save(user, body.to_input(), record_id, body.finish)  # type: ignore[no-any-return]


@router.get("/api/records")
async def list_records(
    db: DbDep,
    records: RecordsDep,
    user: Operator,
    subscriber_id: Annotated[str, Query(min_length=1, max_length=64)],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    """A subscriber's previous requests, newest first (audited: notes are personal data)."""
    rows = await asyncio.to_thread(records.for_subscriber, subscriber_id, limit)
    await audit.record_async(
        db,
        user_id=user.id,
        action="records.view",
        subject=subscriber_id,
        details={"count": len(rows)},
    )
    return {"records": rows}


@router.get("/api/topics")
def topic_tree(
    topics: TopicsDep,
    user: Annotated[
        User, Depends(require_roles("operator", "supervisor", "tech_support", "analyst", "marketing"))
    ],
    include_archived: bool = True,
) -> dict[str, Any]:
    return {"tree": topics.tree(include_archived=include_archived)}


# ---- supervisor: topic tree ------------------------------------------------------------------------
@router.post("/api/topics")
def create_topic(body: TopicIn, topics: TopicsDep, user: Supervisor) -> dict[str, Any]:
    return topics.create(body.code, body.name_ru, body.name_en, body.parent_code)  # type: ignore[no-any-return]


@router.patch("/api/topics/{code}")
def update_topic(code: str, body: TopicPatch, topics: TopicsDep, user: Supervisor) -> dict[str, Any]:
    return topics.update(  # type: ignore[no-any-return]
        code, name_ru=body.name_ru, name_en=body.name_en, archived=body.archived, parent_code=body.parent_code
    )


# ---- statistics and emerging topics ----------------------------------------------------------------
@router.get("/api/records/stats")
def stats(
    db: DbDep,
    user: StatsReader,
    bucket: str = "hour",
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    return topic_stats(db, bucket, start, end)


@router.get("/api/records/emerging")
def emerging(emerging: EmergingDep, user: Supervisor) -> dict[str, Any]:
    return {"clusters": emerging.list_open()}


@router.post("/api/records/emerging/run")
async def emerging_run(emerging: EmergingDep, user: Supervisor) -> dict[str, Any]:
    return {"clusters": await emerging.run_and_notify()}


@router.post("/api/records/emerging/{cluster_id}/promote")
async def emerging_promote(
    cluster_id: RowId, body: PromoteIn, emerging: EmergingDep, classifier: ClassifierDep, user: Supervisor
) -> dict[str, Any]:
    """New topic from a cluster; its notes become training examples (retrain in the background)."""
    out = await asyncio.to_thread(
        emerging.promote,
        cluster_id,
        body.code,
        body.name_ru,
        body.name_en,
        body.parent_code,
    )
    out["retraining"] = False
    if body.retrain and not classifier.training:
        asyncio.get_running_loop().run_in_executor(None, _train_quietly, classifier)
        out["retraining"] = True
    return out


@router.post("/api/records/emerging/{cluster_id}/dismiss")
def emerging_dismiss(cluster_id: RowId, emerging: EmergingDep, user: Supervisor) -> dict[str, Any]:
    return emerging.dismiss(cluster_id)  # type: ignore[no-any-return]


# ---- classifier models -------------------------------------------------------------------------------
@router.get("/api/classifier")
def classifier_status(classifier: ClassifierDep, user: Supervisor) -> dict[str, Any]:
    return classifier.status()  # type: ignore[no-any-return]


@router.get("/api/classifier/overrides")
def classifier_overrides(
    db: DbDep,
    user: Supervisor,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """Per topic, where operators override the suggestion (default: the last 14 days)."""
    return override_stats(db, start, end)


@router.post("/api/classifier/train")
async def classifier_train(classifier: ClassifierDep, user: Supervisor) -> dict[str, Any]:
    """Retrain from the bootstrap corpus and the records; swapped in only if not worse."""
    result = await asyncio.to_thread(classifier.train)
    return result.to_dict()  # type: ignore[no-any-return]


def _train_quietly(classifier: ClassifierService) -> None:
    try:
        classifier.train()
    except Exception as exc:
        log.warning("retraining after promotion failed: %s", exc)
