"""Labelled data sets: CSV files of ``text,label`` (optional card-context columns), with clear errors.

A training file must be UTF-8 (a BOM is fine), have ``text`` and ``label`` columns and at least two
labels. Rows with an empty text are skipped and counted. The context columns are
``negative_balance, blocked, roaming_charges, service_changed`` (0/1); missing ones count as 0.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier.errors import TrainingDataError as TrainingDataError  # re-exported: raised here
from classifier.features import CONTEXT_FEATURES, normalise
from classifier.topics import OUT_OF_SCOPE

BOOTSTRAP_CSV = Path(__file__).resolve().parent / "data" / "bootstrap.csv"
# hand-written Russian operator notes, never trained on (see classifier/heldout/README.md)
HELDOUT_CSV = Path(__file__).resolve().parent / "heldout" / "ru_operator_notes.csv"
HELDOUT_PARTS = ("tune", "test")
# a CSV cell may hold a pasted 1 MB note; allow it (the text is truncated later, not refused)
csv.field_size_limit(16 * 1024 * 1024)


@dataclass
class Dataset:
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    contexts: list[dict[str, Any]] = field(default_factory=list)
    skipped_empty: int = 0
    source: str = ""
    # per-row training weight (real records count more than bootstrap rows); 1.0 when not given
    weights: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def label_set(self) -> set[str]:
        return set(self.labels)

    def add(self, text: str, label: str, context: dict[str, Any] | None = None, weight: float = 1.0) -> None:
        self.texts.append(text)
        self.labels.append(label)
        self.contexts.append(context or {})
        self.weights.append(weight)

    def row_weights(self) -> list[float]:
        return self.weights if len(self.weights) == len(self.texts) else [1.0] * len(self.texts)

    def extend(self, other: Dataset) -> Dataset:
        weights = self.row_weights() + other.row_weights()
        self.texts += other.texts
        self.labels += other.labels
        self.contexts += other.contexts
        self.weights = weights
        self.skipped_empty += other.skipped_empty
        return self

    def reweighted(self, weight: float) -> Dataset:
        """This data set with every row weighing ``weight``."""
        out = self.subset(range(len(self)))
        out.weights = [weight] * len(out)
        return out

    def subset(self, idx: Any) -> Dataset:
        weights = self.row_weights()
        return Dataset(
            [self.texts[i] for i in idx],
            [self.labels[i] for i in idx],
            [self.contexts[i] for i in idx],
            0,
            self.source,
            [weights[i] for i in idx],
        )

    def without(self, labels: set[str]) -> Dataset:
        keep = [i for i, lab in enumerate(self.labels) if lab not in labels]
        return self.subset(keep)


def read_csv(path: Path | str) -> Dataset:
    """Read a labelled CSV; raises ``TrainingDataError`` naming the file and the problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TrainingDataError(f"cannot read {path}: {exc.strerror}") from None
    return parse_csv(raw, source=path.name)


def parse_csv(raw: bytes, source: str = "data", part: str | None = None) -> Dataset:
    """Parse a labelled CSV; ``part``: keep only rows whose ``split`` column says so."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TrainingDataError(
            f"{source} is not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    cols = [c.strip().lower() for c in (reader.fieldnames or [])]
    if "text" not in cols or "label" not in cols:
        raise TrainingDataError(
            f"{source} needs a header with 'text' and 'label' columns, found: {cols or 'none'}"
        )
    reader.fieldnames = cols
    ds = Dataset(source=source)
    for n, row in enumerate(reader, start=2):
        label = (row.get("label") or "").strip()
        note = row.get("text") or ""
        if not label:
            raise TrainingDataError(f"{source} line {n}: empty label")
        if part is not None and (row.get("split") or "").strip() != part:
            continue
        if not normalise(note):
            ds.skipped_empty += 1
            continue
        ctx = {f: (row.get(f) or "0").strip() in ("1", "true", "True") for f in CONTEXT_FEATURES}
        ds.add(note, label, ctx)
    return ds


def check_trainable(ds: Dataset) -> None:
    """At least two topics (besides ``out_of_scope``) with two rows each."""
    topics = {lab for lab in ds.labels if lab != OUT_OF_SCOPE}
    if len(topics) < 2:
        raise TrainingDataError(
            f"{ds.source or 'training data'} has {len(topics)} topic(s) ({', '.join(sorted(topics)) or 'none'}); "
            "training needs at least 2"
        )
    counts: dict[str, int] = {}
    for lab in ds.labels:
        counts[lab] = counts.get(lab, 0) + 1
    rare = sorted(lab for lab, c in counts.items() if c < 2)
    if rare:
        raise TrainingDataError(
            f"{ds.source or 'training data'}: topics with fewer than 2 rows: {', '.join(rare)}"
        )


def load_bootstrap() -> Dataset:
    """The shipped bootstrap corpus (generated, Russian and English; see classifier/README.md)."""
    return read_csv(BOOTSTRAP_CSV)


def load_heldout(part: str | None = None) -> Dataset:
    """The hand-written Russian operator notes (``part``: ``tune`` for thresholds, ``test`` for reported
    figures, None for both). Never training data: ``tests`` check that no note of it is in the bootstrap
    corpus or in what the registry trains on."""
    if part is not None and part not in HELDOUT_PARTS:
        raise ValueError(f"part must be one of {', '.join(HELDOUT_PARTS)}")
    name = f"heldout-ru{'-' + part if part else ''}"
    return parse_csv(HELDOUT_CSV.read_bytes(), source=name, part=part)
