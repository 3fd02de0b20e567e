"""Re-linking a segment of an export back to subscribers, inside the workstation only.

The workstation reads the pseudonyms of the chosen segments from its own copy of the export, recomputes
the pseudonym of every subscriber in billing with that export's derived key, and keeps the ids that
match. No table of id → pseudonym is ever written; the result (subscriber ids) is stored only in the
workstation DB for the campaign. Without the master key no pseudonym matches anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from anonymizer.pseudonyms import derive_key, export_context, pseudonyms

SEGMENT_FIELDS = {"tier": "value_tier", "cluster": "behaviour_cluster"}


def parse_segment(spec: str) -> tuple[str, str]:
    """``tier:premium`` / ``cluster:2`` → (column, value)."""
    kind, _, value = spec.partition(":")
    if kind not in SEGMENT_FIELDS or not value:
        raise ValueError(f"a segment is tier:<name> or cluster:<number>, got {spec!r}")
    return SEGMENT_FIELDS[kind], value


def segment_pseudonyms(bundle: Path, segments: list[str]) -> set[str]:
    """Pseudonyms of the rows in any of ``segments`` of the export at ``bundle``."""
    columns = ["pseudonym", "value_tier", "behaviour_cluster"]
    frame = pd.read_parquet(bundle / "data.parquet", columns=columns)
    mask = np.zeros(len(frame), dtype=bool)
    for spec in segments:
        col, value = parse_segment(spec)
        mask |= frame[col].astype(str).to_numpy() == value
    return set(frame.loc[mask, "pseudonym"].tolist())


def segment_counts(bundle: Path) -> dict[str, int]:
    """Rows per segment (what an analyst or a marketer may see: counts only)."""
    frame = pd.read_parquet(bundle / "data.parquet", columns=["value_tier", "behaviour_cluster"])
    out = {f"tier:{k}": int(v) for k, v in frame["value_tier"].astype(str).value_counts().items()}
    out.update(
        {f"cluster:{k}": int(v) for k, v in frame["behaviour_cluster"].value_counts().sort_index().items()}
    )
    return out


def segment_labels(bundle: Path) -> dict[str, str]:
    """Readable names of the segments for the marketing screen: ``tier:<name>`` → the tier,
    ``cluster:<n>`` → the cluster's descriptive name (two clusters may share a name)."""
    frame = pd.read_parquet(
        bundle / "data.parquet", columns=["value_tier", "behaviour_cluster", "behaviour_segment"]
    )
    out = {f"tier:{k}": str(k) for k in frame["value_tier"].astype(str).unique()}
    names = frame.groupby("behaviour_cluster", observed=True)["behaviour_segment"].first()
    out.update({f"cluster:{k}": str(v) for k, v in names.items()})
    return out


def relink(
    master: bytes, export_id: str, targets: set[str], subscriber_id_chunks: Iterable[Iterable[object]]
) -> list[str]:
    """Subscriber ids whose pseudonym (for this export) is in ``targets``."""
    key = derive_key(master, export_context(export_id))
    found: list[str] = []
    if not targets:
        return found
    for chunk in subscriber_id_chunks:
        ids = np.asarray(list(chunk), dtype=object)
        if len(ids) == 0:
            continue
        hit = np.fromiter((p in targets for p in pseudonyms(key, ids)), dtype=bool, count=len(ids))
        found.extend(str(i) for i in ids[hit])
    return found
