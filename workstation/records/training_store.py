"""The classifier's training store: every finished record becomes a labelled example.

When a record is finished its note is scrubbed by the anonymizer (names, phones, documents, cards,
addresses → placeholders) and stored with the main topic the operator chose: a topic promoted from an
emerging cluster wins, "Other" is stored as ``out_of_scope`` (the model should have offered the free-text
path). The raw note never enters the store, so neither the models nor their embedding cache ever hold
personal data. A fixed share of examples, chosen by a hash of the scrubbed note, is held out: those rows
decide whether a retrained model replaces the current one and tune its abstention thresholds.

Real records weigh more than the bootstrap corpus, and the corpus fades as records accumulate
(``bootstrap_weight``).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select

from classifier.data import Dataset
from classifier.evaluate import bucket
from classifier.topics import OTHER, OUT_OF_SCOPE
from workstation.db import Database, utcnow
from workstation.records.models import RecordTopic, RequestRecord, TrainingExample

log = logging.getLogger(__name__)

# share of real examples held out of training (acceptance of a retrained model, abstention thresholds)
HOLDOUT_SHARE = 0.2
# a real record counts this many times a bootstrap row ...
REAL_WEIGHT = 3.0
# ... and the bootstrap corpus weighs FADE_ROWS / (FADE_ROWS + real examples): 1 with no records,
# 0.5 with 1,000, 0.09 with 10,000
FADE_ROWS = 1000


def bootstrap_weight(real_rows: int) -> float:
    """Weight of a bootstrap row once ``real_rows`` real examples exist."""
    return FADE_ROWS / (FADE_ROWS + max(real_rows, 0))


def label_of(topics: list[RecordTopic]) -> str | None:
    """The training label of a record's topics: a promoted topic first, else the main one; "Other"
    → ``out_of_scope``."""
    promoted = [rt.topic.code for rt in topics if rt.source == "promoted"]
    main = promoted[0] if promoted else (topics[0].topic.code if topics else None)
    if main is None:
        return None
    return OUT_OF_SCOPE if main == OTHER else main


def _scrub(note: str) -> str:
    from anonymizer.scrubber import scrub

    return scrub(note)


def store(session: Any, rec: RequestRecord) -> bool:
    """Store (or update) the example of a finished record; False when it has no note or no topic."""
    if rec.status != "finished" or not (rec.note or "").strip():
        return False
    label = label_of(list(rec.topics))
    if label is None:
        return False
    row = session.get(TrainingExample, rec.id)
    if row is not None and row.label == label:
        return True
    text = row.text if row is not None else _scrub(rec.note)
    if row is None:
        row = TrainingExample(record_id=rec.id, created_at=utcnow())
        session.add(row)
    row.text, row.label = text, label
    row.context = {k: bool(v) for k, v in (rec.context or {}).items()}
    row.holdout = bucket(text) < HOLDOUT_SHARE
    row.updated_at = utcnow()
    return True


def sync(db: Database) -> int:
    """Store the finished records the store lacks or whose label changed (a promoted topic); the count."""
    changed = 0
    with db.session() as s:
        stored = dict(s.execute(select(TrainingExample.record_id, TrainingExample.label)).all())
        for rec in s.scalars(
            select(RequestRecord).where(RequestRecord.status == "finished", RequestRecord.note != "")
        ):
            label = label_of(list(rec.topics))
            if label is not None and stored.get(rec.id) != label and store(s, rec):
                changed += 1
    if changed:
        log.info("classifier training store: %d example(s) added or relabelled", changed)
    return changed


def count(db: Database, since: Any = None) -> int:
    """Examples in the store (updated after ``since`` when given)."""
    q = select(func.count()).select_from(TrainingExample)
    if since is not None:
        q = q.where(TrainingExample.updated_at > since)
    with db.session() as s:
        return int(s.scalar(q) or 0)


def datasets(db: Database, labels: set[str]) -> tuple[Dataset, Dataset]:
    """(training rows, held-out rows) of the store whose label is in ``labels``, weighted
    ``REAL_WEIGHT``."""
    train, holdout = Dataset(source="records"), Dataset(source="held-out records")
    with db.session() as s:
        for text, label, ctx, held in s.execute(
            select(
                TrainingExample.text, TrainingExample.label, TrainingExample.context, TrainingExample.holdout
            ).order_by(TrainingExample.record_id)
        ):
            if label in labels:
                (holdout if held else train).add(text, label, ctx or {}, REAL_WEIGHT)
    return train, holdout
