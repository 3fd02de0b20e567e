"""Versioned model files and hot swap.

Layout under ``<data_dir>/models``: ``model-0007.pkl`` (the pickled ``TopicModel``), ``model-0007.json``
(its evaluation and training facts), ``current`` (the accepted version number, replaced atomically) and
``embeddings.npz`` (sentence embeddings of notes already encoded, keyed by a hash of the note).

A retrained model is evaluated beside the current one on the same held-out rows and becomes current only
if it is not worse (``classifier.evaluate.not_worse``). Once there are at least ``MIN_REAL_HOLDOUT``
held-out real records, those rows are the comparison (a model that learnt the templates better but the
floor worse is refused); before that, a hash split of the training data. Abstention thresholds are tuned
on held-out notes no template made: the real held-out records when there are enough, else the shipped
hand-written tuning notes. Every node notices a new ``current`` through ``refresh()`` and loads it
without a restart. Model files are only ever read from this directory.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from classifier.data import Dataset, check_trainable, load_heldout
from classifier.embeddings import EmbeddingCache, Encoder
from classifier.evaluate import Ranker, Refined, evaluate, not_worse, split
from classifier.model import TopicModel

log = logging.getLogger(__name__)
_MODEL_FILE = re.compile(r"^model-(\d{4,})\.pkl$")
# held-out real records needed before they, not a split of the training data, decide acceptance
MIN_REAL_HOLDOUT = 30


@dataclass
class TrainResult:
    version: int
    accepted: bool
    reason: str
    metrics: dict[str, Any]
    current_metrics: dict[str, Any] | None = None
    current_version: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "accepted": self.accepted,
            "reason": self.reason,
            "metrics": self.metrics,
            "current_version": self.current_version,
            "current_metrics": self.current_metrics,
            **self.extra,
        }


class ModelRegistry:
    """Holds the current model in memory; trains, evaluates, stores and swaps versions."""

    def __init__(self, directory: Path):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.model: TopicModel | None = None
        self.version: int | None = None
        self._lock = threading.Lock()

    # ---- reading -------------------------------------------------------------------------------------
    def _path(self, version: int, ext: str) -> Path:
        return self.dir / f"model-{version:04d}.{ext}"

    def current_version_on_disk(self) -> int | None:
        try:
            return int((self.dir / "current").read_text().strip())
        except (OSError, ValueError):
            return None

    def refresh(self) -> bool:
        """Load the current version if another process (or node) swapped it in; True when it changed."""
        v = self.current_version_on_disk()
        if v is None or v == self.version:
            return False
        model = self.load(v)
        with self._lock:
            self.model, self.version = model, v
        log.info("classifier model v%d loaded", v)
        return True

    def current_created_at(self) -> datetime | None:
        """When the current version was trained (None without one)."""
        v = self.version if self.version is not None else self.current_version_on_disk()
        if v is None:
            return None
        try:
            return datetime.fromisoformat(json.loads(self._path(v, "json").read_text())["created_at"])
        except (OSError, ValueError, KeyError):
            return None

    def load(self, version: int) -> TopicModel:
        with self._path(version, "pkl").open("rb") as fh:
            model = pickle.load(fh)
        if not isinstance(model, TopicModel):
            raise ValueError(f"model-{version:04d}.pkl is not a topic model")
        return model

    def versions(self) -> list[dict[str, Any]]:
        """Every stored version with its metrics, newest first."""
        out = []
        current = self.current_version_on_disk()
        for p in sorted(self.dir.glob("model-*.json"), reverse=True):
            try:
                meta = json.loads(p.read_text())
            except (OSError, ValueError):
                continue
            meta["current"] = meta.get("version") == current
            out.append(meta)
        return out

    def _next_version(self) -> int:
        nums = [int(m.group(1)) for p in self.dir.iterdir() if (m := _MODEL_FILE.match(p.name))]
        return max(nums, default=0) + 1

    # ---- training ------------------------------------------------------------------------------------
    def _ranker(self, model: TopicModel, encoder: Encoder | None) -> Ranker:
        if encoder is not None and model.refined is not None:
            return Refined(model, encoder)
        return model

    def train(
        self,
        data: Dataset,
        *,
        force: bool = False,
        seed: int = 0,
        holdout: Dataset | None = None,
        encoder: Encoder | None = None,
    ) -> TrainResult:
        """Train on ``data``, store the version, swap it in if not worse.

        ``holdout``: real records kept out of ``data``; with ``MIN_REAL_HOLDOUT`` rows or more they decide
        acceptance and tune the abstention thresholds. ``encoder``: also fit the sentence-embedding stage.
        ``force`` accepts the model whatever the comparison says (first model, explicit operator choice).
        """
        check_trainable(data)
        real = holdout is not None and len(holdout) >= MIN_REAL_HOLDOUT
        if real and holdout is not None:
            train, test, gate = data, holdout, "held-out real records"
        else:
            (train, test), gate = split(data), "hash split of the training data"
        check_trainable(train)
        weights = train.row_weights()
        model = TopicModel().fit(train.texts, train.labels, train.contexts, seed=seed, weights=weights)
        cache = EmbeddingCache(self.dir / "embeddings.npz", encoder) if encoder is not None else None
        if cache is not None:
            model.fit_refined(train.texts, train.labels, cache, weights, seed=seed)
            cache.save()
        tuning = test if real else load_heldout("tune")
        model.tune_abstention(
            tuning.texts, tuning.labels, tuning.contexts, source=tuning.source or gate, encoder=cache
        )
        metrics = evaluate(self._ranker(model, cache), test, model.topic_classes)
        metrics.update(train_rows=len(train), compared_on=gate)
        current, current_version = self.model, self.version
        current_metrics = None
        if current is not None:
            # the current model on the same held-out rows; topics it does not know count against it
            current_metrics = evaluate(self._ranker(current, cache), test, model.topic_classes)
        if force or current_metrics is None:
            accepted, reason = True, "forced" if force else "first model"
        elif not_worse(metrics, current_metrics):
            accepted, reason = True, "not worse than the current model"
        else:
            accepted, reason = (
                False,
                (
                    f"worse than v{current_version}: top1 {metrics['top1']} vs {current_metrics['top1']}, "
                    f"macro_f1 {metrics['macro_f1']} vs {current_metrics['macro_f1']}"
                ),
            )
        with self._lock:
            version = self._next_version()
            meta = {
                "version": version,
                "created_at": datetime.now(UTC).isoformat(),
                "accepted": accepted,
                "reason": reason,
                "source": data.source,
                "rows": len(data),
                "metrics": metrics,
                "model": model.describe(),
            }
            tmp = self._path(version, "pkl.tmp")
            with tmp.open("wb") as fh:
                pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._path(version, "pkl"))
            self._path(version, "json").write_text(json.dumps(meta, ensure_ascii=False, indent=1))
            if accepted:
                ptr = self.dir / "current.tmp"
                ptr.write_text(str(version))
                os.replace(ptr, self.dir / "current")
                self.model, self.version = model, version
        log.info(
            "classifier model v%d trained on %d rows: %s (%s)",
            version,
            len(train),
            "accepted" if accepted else "refused",
            reason,
        )
        return TrainResult(version, accepted, reason, metrics, current_metrics, current_version)
