"""Topic suggestions for the operator and learning from records: the workstation side of ``classifier``.

The current model lives in memory (``ModelRegistry``); suggestions never touch the DB (the topic list is
cached). Each keystroke gets the sparse stage (about a millisecond); at a typing pause the screen asks
with ``refine`` and the sentence-embedding stage answers (``classifier.refine``, 20–30 ms, in a worker
thread so the event loop never waits on it).

Every finished record is a label (``training_store``: scrubbed note, chosen topic). Training takes the
bootstrap corpus, faded as records accumulate, plus the stored examples (weighted higher), drops
archived topics, and swaps the new model in only if it is not worse on the held-out real records. It
runs on demand and on a schedule (``run_retrainer``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from classifier.data import Dataset, TrainingDataError, load_bootstrap, read_csv
from classifier.embeddings import Encoder, load_encoder
from classifier.features import MAX_TEXT_CHARS, context_from_card
from classifier.registry import ModelRegistry, TrainResult
from classifier.topics import OTHER, OUT_OF_SCOPE
from workstation.db import Database
from workstation.errors import DomainError, Unavailable
from workstation.leader import LeaderLock, run_while_leader
from workstation.records import training_store
from workstation.records.topics import TopicService

log = logging.getLogger(__name__)

CONTEXT_TTL_S = 300.0
CONTEXT_TIMEOUT_S = 1.0
RELOAD_EVERY_S = 15.0
# records a topic needs before training from the DB learns it
MIN_TOPIC_RECORDS = 3
# the retraining schedule is checked this often
RETRAIN_CHECK_S = 600.0
ADD_REFINED = "the current model has no sentence-embedding stage yet"


class ClassifierService:
    def __init__(
        self,
        db: Database,
        topics: TopicService,
        models_dir: Path,
        billing: Any = None,
        embeddings: bool = True,
        retrain_hours: float = 24.0,
        retrain_after_records: int = 200,
    ):
        self.db = db
        self.topics = topics
        self.billing = billing
        self.registry = ModelRegistry(models_dir)
        self.embeddings = embeddings
        self.encoder: Encoder | None = None
        self.retrain_hours = retrain_hours
        self.retrain_after_records = retrain_after_records
        self._contexts: dict[str, tuple[float, dict[str, bool]]] = {}
        self._train_lock = threading.Lock()
        self.training = False
        self.last_trained_at: float | None = None

    # ---- model lifecycle ------------------------------------------------------------------------
    def load_encoder(self) -> Encoder | None:
        """The sentence-embedding encoder (None when switched off or not installed)."""
        if self.embeddings and self.encoder is None:
            self.encoder = load_encoder()
        return self.encoder

    def ensure_model(self) -> None:
        """Load the current version, or train the first one (bootstrap corpus + records) if none exists.

        The first model is the sparse stage alone (seconds); the refined stage follows at the first
        scheduled retraining (encoding the bootstrap corpus takes minutes on one core)."""
        self.registry.refresh()
        if self.registry.model is None:
            self.train(force=True, with_embeddings=False)

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

    def retrain_due(self) -> str | None:
        """Why a scheduled retraining is due now (None: not due)."""
        model = self.registry.model
        if model is None or self.training:
            return None
        if self.embeddings and model.refined is None and self.load_encoder() is not None:
            return ADD_REFINED
        if not self.retrain_hours:
            return None
        since = self.registry.current_created_at()
        new = training_store.count(self.db, since)
        if new >= self.retrain_after_records:
            return f"{new} new labelled records"
        if new and since is not None:
            age_h = (time.time() - since.timestamp()) / 3600
            if age_h >= self.retrain_hours:
                return f"{new} new labelled records and the model is {age_h:.0f} h old"
        return None

    async def run_retrainer(self, lock: LeaderLock) -> None:
        """Background job on the node holding ``lock``: retrain when ``retrain_due`` says so (a refused model keeps
        the current one; other nodes pick the new version up through ``run_reloader``)."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(RETRAIN_CHECK_S)
                try:
                    reason = await asyncio.to_thread(self.retrain_due)
                    if reason:
                        log.info("classifier: scheduled retraining (%s)", reason)
                        # adding the refined stage to the same data's sparse stage needs no comparison
                        result = await asyncio.to_thread(self.train, None, reason == ADD_REFINED)
                        log.info("classifier: v%d %s", result.version, result.reason)
                except Unavailable:
                    continue  # someone is training already
                except Exception:
                    log.exception("classifier: scheduled retraining failed")

        await run_while_leader(lock, loop)

    # ---- suggestions ---------------------------------------------------------------------------
    def suggest(
        self, text: str | None, context: dict[str, Any] | None = None, k: int = 3, refine: bool = False
    ) -> dict[str, Any]:
        """Top-``k`` active topics with confidence; ``other_first`` when the free-text path goes first.
        ``refine`` (at a typing pause): the sentence-embedding stage when available (``stage`` says
        which answered)."""
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
                "stage": None,
                "model_version": None,
                "note_truncated": truncated,
                "context": context or {},
            }
        allowed = {c for c, t in topics.items() if not t["archived"] and c != OTHER}
        encoder = self.load_encoder() if refine else None
        pred = model.predict(text, context, k=k, allowed=allowed, encoder=encoder)
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
            "stage": pred.stage,
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
    def training_dataset(self, csv_path: Path | None = None) -> tuple[Dataset, Dataset | None]:
        """(training data, held-out real records): the bootstrap corpus faded by the number of real
        examples plus the store's examples, or a CSV (then no held-out records)."""
        if csv_path is not None:
            return read_csv(csv_path), None
        training_store.sync(self.db)
        active = self.topics.leaf_codes()
        archived = self.topics.leaf_codes(include_archived=True) - active
        real, holdout = training_store.datasets(self.db, (active - {OTHER}) | {OUT_OF_SCOPE})
        data = load_bootstrap().without(archived)
        data = data.reweighted(training_store.bootstrap_weight(len(real) + len(holdout)))
        data.extend(real)
        # a topic with a single record so far cannot be learnt yet; it must not block the others
        counts = Counter(data.labels)
        rare = {label for label, n in counts.items() if n < MIN_TOPIC_RECORDS}
        data = data.without(rare)
        data.source = "bootstrap+records"
        return data, holdout.without(rare | (set(holdout.labels) - set(data.labels)))

    def train(
        self, csv_path: Path | None = None, force: bool = False, with_embeddings: bool = True
    ) -> TrainResult:
        """Train, evaluate and maybe swap (one training at a time). Raises ``DomainError`` on bad data."""
        if not self._train_lock.acquire(blocking=False):
            raise Unavailable(
                "a model is being trained already; try again when it finishes", error_id="training_busy"
            )
        self.training = True
        try:
            data, holdout = self.training_dataset(csv_path)
            unknown = sorted(
                set(data.labels) - self.topics.leaf_codes(include_archived=True) - {OUT_OF_SCOPE}
            )
            encoder = self.load_encoder() if with_embeddings else None
            result = self.registry.train(data, force=force, holdout=holdout, encoder=encoder)
            if unknown:
                result.extra["labels_not_in_topic_tree"] = unknown
            result.extra["real_examples"] = training_store.count(self.db)
            result.extra["held_out_real_examples"] = len(holdout) if holdout is not None else 0
            self.last_trained_at = time.time()
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
            "embeddings": self.encoder.name if self.encoder is not None else None,
            "examples": training_store.count(self.db),
            "model": model.describe() if model else None,
            "versions": self.registry.versions()[:20],
        }
