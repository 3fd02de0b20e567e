"""Topic suggestions for the operator and learning from records: the workstation side of ``classifier``.

The current model lives in memory (``ModelRegistry``); suggestions never touch the DB (the topic list is
cached). Every finished record is a label: training takes the bootstrap corpus plus the records' main
topics (a topic promoted from an emerging cluster wins over "other"), drops archived topics, and swaps
the new model in only if it is not worse than the current one.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select

from classifier.data import Dataset, TrainingDataError, load_bootstrap, read_csv
from classifier.features import MAX_TEXT_CHARS, context_from_card
from classifier.registry import ModelRegistry, TrainResult
from classifier.topics import OTHER, OUT_OF_SCOPE
from workstation.db import Database
from workstation.errors import DomainError, Unavailable
from workstation.records.models import RecordTopic, RequestRecord
from workstation.records.topics import TopicService

log = logging.getLogger(__name__)

CONTEXT_TTL_S = 300.0
CONTEXT_TIMEOUT_S = 1.0
RELOAD_EVERY_S = 15.0
# records a topic needs before training from the DB learns it
MIN_TOPIC_RECORDS = 3


class ClassifierService:
    def __init__(self, db: Database, topics: TopicService, models_dir: Path, billing: Any = None):
        self.db = db
        self.topics = topics
        self.billing = billing
        self.registry = ModelRegistry(models_dir)
        self._contexts: dict[str, tuple[float, dict[str, bool]]] = {}
        self._train_lock = threading.Lock()
        self.training = False

    # ---- model lifecycle ------------------------------------------------------------------------
    def ensure_model(self) -> None:
        """Load the current version, or train the first one (bootstrap corpus + records) if none exists."""
        self.registry.refresh()
        if self.registry.model is None:
            self.train(force=True)

    async def run_reloader(self) -> None:
        """Background job: first model at start-up, then pick up versions trained elsewhere (CLI, nodes)."""
        try:
            await asyncio.to_thread(self.topics.seed)  # idempotent; covers a DB migrated after bootstrap
            await asyncio.to_thread(self.ensure_model)
        except Exception:
            log.exception("classifier: no model could be loaded or trained")
        while True:
            await asyncio.sleep(RELOAD_EVERY_S)
            try:
                await asyncio.to_thread(self.registry.refresh)
            except Exception:
                log.exception("classifier: reloading the current model failed")

    # ---- suggestions ---------------------------------------------------------------------------
    def suggest(self, text: str | None, context: dict[str, Any] | None = None, k: int = 3) -> dict[str, Any]:
        """Top-``k`` active topics with confidence; ``other_first`` when the free-text path goes first."""
        started = time.perf_counter()
        model = self.registry.model
        text = text or ""
        truncated = len(text) > MAX_TEXT_CHARS
        topics = self.topics.by_code()
        if model is None:
            return {
                "suggestions": [],
                "abstain": True,
                "other_first": True,
                "reason": "no_model",
                "model_version": None,
                "note_truncated": truncated,
                "context": context or {},
            }
        allowed = {c for c, t in topics.items() if not t["archived"] and c != OTHER}
        pred = model.predict(text, context, k=k, allowed=allowed)
        suggestions = [
            {
                "rank": i + 1,
                "code": s.code,
                "confidence": s.confidence,
                "name_ru": topics[s.code]["name_ru"],
                "name_en": topics[s.code]["name_en"],
            }
            for i, s in enumerate(pred.suggestions)
        ]
        return {
            "suggestions": suggestions,
            "abstain": pred.abstain,
            "other_first": pred.abstain,
            "reason": pred.reason,
            "model_version": self.registry.version,
            "note_truncated": truncated,
            "context": context or {},
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 3),
        }

    async def context_for(self, subscriber_id: str | None) -> dict[str, bool]:
        """Card-context flags of a subscriber (cached a few minutes; {} when billing cannot say)."""
        if not subscriber_id or self.billing is None:
            return {}
        hit = self._contexts.get(subscriber_id)
        if hit and time.monotonic() - hit[0] < CONTEXT_TTL_S:
            return hit[1]
        try:
            ctx = await asyncio.wait_for(self._load_context(subscriber_id), CONTEXT_TIMEOUT_S)
        except Exception as exc:  # billing slow or down: suggest from the note alone
            log.info("classifier: no card context (%s)", type(exc).__name__)
            return {}
        if len(self._contexts) > 10_000:
            self._contexts.clear()
        self._contexts[subscriber_id] = (time.monotonic(), ctx)
        return ctx

    async def _load_context(self, subscriber_id: str) -> dict[str, bool]:
        getter = getattr(self.billing, "get_card", None)
        card = None
        if getter is not None:
            lookup = await getter(subscriber_id)
            card = getattr(lookup, "card", None)
        else:
            card = await self.billing.card(subscriber_id)
        if card is None:
            return {}
        try:
            months = await self.billing.charges(subscriber_id, months=1)
        except Exception:
            months = []
        return context_from_card(card, months)

    # ---- training -----------------------------------------------------------------------------
    def records_dataset(self) -> Dataset:
        """Finished records with a note, labelled with their main topic (promoted topics first)."""
        ds = Dataset(source="records")
        active = self.topics.leaf_codes()
        with self.db.session() as s:
            rows = s.execute(
                select(RequestRecord.id, RequestRecord.note, RequestRecord.context)
                .where(RequestRecord.status == "finished", RequestRecord.note != "")
                .order_by(RequestRecord.id)
            ).all()
            links: dict[int, list[RecordTopic]] = {}
            for rt in s.scalars(select(RecordTopic).order_by(RecordTopic.record_id, RecordTopic.position)):
                links.setdefault(rt.record_id, []).append(rt)
            for rid, note, ctx in rows:
                topics = links.get(rid, [])
                promoted = [rt.topic.code for rt in topics if rt.source == "promoted"]
                main = promoted[0] if promoted else (topics[0].topic.code if topics else None)
                if main and main != OTHER and main in active:
                    ds.add(note, main, ctx or {})
        return ds

    def training_dataset(self, csv_path: Path | None = None) -> Dataset:
        if csv_path is not None:
            return read_csv(csv_path)
        archived = self.topics.leaf_codes(include_archived=True) - self.topics.leaf_codes()
        data = load_bootstrap().without(archived)
        data.source = "bootstrap+records"
        data.extend(self.records_dataset())
        # a topic with a single record so far cannot be learnt yet; it must not block the others
        counts = Counter(data.labels)
        data = data.without({label for label, n in counts.items() if n < MIN_TOPIC_RECORDS})
        data.source = "bootstrap+records"
        return data

    def train(self, csv_path: Path | None = None, force: bool = False) -> TrainResult:
        """Train, evaluate and maybe swap (one training at a time). Raises ``DomainError`` on bad data."""
        if not self._train_lock.acquire(blocking=False):
            raise Unavailable(
                "a model is being trained already; try again when it finishes", error_id="training_busy"
            )
        self.training = True
        try:
            data = self.training_dataset(csv_path)
            unknown = sorted(
                set(data.labels) - self.topics.leaf_codes(include_archived=True) - {OUT_OF_SCOPE}
            )
            result = self.registry.train(data, force=force)
            if unknown:
                result.extra["labels_not_in_topic_tree"] = unknown
            return result
        except TrainingDataError as exc:
            raise DomainError(str(exc), error_id="bad_training_data") from None
        finally:
            self.training = False
            self._train_lock.release()

    def status(self) -> dict[str, Any]:
        model = self.registry.model
        return {
            "version": self.registry.version,
            "training": self.training,
            "model": model.describe() if model else None,
            "versions": self.registry.versions()[:20],
        }
