"""The release ledger: every export that left the workstation, and the composition check for a new one.

The 2025 amendments to 152-FZ (Federal Law 233-FZ of 08.08.2024) and the RKN methods ask that
depersonalised sets handed out cannot be recombined to re-identify anyone. Each release is therefore
recorded with its period, attributes, recipient, key id, k, l and generalisation levels, and — kept in
the workstation only, never in a bundle — which released class each subscriber fell into.

Before a new release goes out it is joined with every earlier one whose period overlaps it, on the
subscriber (the join an attacker would try with the behaviour vectors): the *joint* record of a
subscriber is the tuple of his classes in all those releases. If any joint class holds fewer than k
subscribers the new export is refused (``LedgerRefused``, naming the releases it collides with).
Exports built by ``anonymizer.export`` partition by the data, the period, k and l only, so two exports
of the same period and k have the same classes, and their joint classes are the classes themselves.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anonymizer.errors import LedgerRefused as LedgerRefused  # re-exported: raised here


@dataclass
class Release:
    export_id: str
    month_from: str
    month_to: str
    attributes: list[str]
    recipient: str
    key_id: str
    k: int
    l: int  # noqa: E741 (the name of the property)
    generalisation: dict[str, int] = field(default_factory=dict)
    rows: int = 0
    created_at: str = ""

    def overlaps(self, other: Release) -> bool:
        return self.month_from <= other.month_to and other.month_from <= self.month_to


class ReleaseLedger:
    """Files under ``root``: ``ledger.jsonl`` (one release a line) and ``<export id>.classes.parquet``."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One export checks and records at a time (a file lock: several processes may export)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def releases(self) -> list[Release]:
        path = self.root / "ledger.jsonl"
        if not path.is_file():
            return []
        return [Release(**json.loads(line)) for line in path.read_text("utf-8").splitlines() if line.strip()]

    def check(self, new: Release, subscriber_ids: np.ndarray, classes: np.ndarray) -> dict[str, Any]:
        """Raise ``LedgerRefused`` when the joint classes with overlapping releases drop below ``new.k``;
        otherwise return what was checked (for the manifest)."""
        earlier = [r for r in self.releases() if r.overlaps(new) and r.export_id != new.export_id]
        joint = pd.DataFrame({"subscriber_id": subscriber_ids, "c_new": classes})
        checked: list[dict[str, Any]] = []
        for i, r in enumerate(earlier):
            path = self.root / f"{r.export_id}.classes.parquet"
            if not path.is_file():
                continue
            old = pd.read_parquet(path).rename(columns={"class": f"c_{i}"})
            pair = joint[["subscriber_id", "c_new"]].merge(old, on="subscriber_id", how="inner")
            checked.append(
                {"export_id": r.export_id, "period": [r.month_from, r.month_to], "joint_k": _smallest(pair)}
            )
            joint = joint.merge(old, on="subscriber_id", how="left")
        conflicts = [c for c in checked if 0 < c["joint_k"] < new.k]
        together = _smallest(joint) if checked else 0
        if conflicts or 0 < together < new.k:
            names = ", ".join(
                f"{c['export_id']} ({c['period'][0]}..{c['period'][1]})" for c in conflicts or checked
            )
            smallest = min([c["joint_k"] for c in conflicts] + [together])
            raise LedgerRefused(
                f"joined with earlier releases of an overlapping period ({names}) this export would leave "
                f"classes of {smallest} subscribers, below k={new.k}: choose a period that does not overlap "
                "them, or repeat their period with the same k and l",
                details={
                    "conflicts": conflicts or checked,
                    "releases": names,
                    "joint_k": smallest,
                    "k": new.k,
                },
            )
        return {"overlapping_releases": checked, "joint_k_all": together if checked else None}

    def record(self, new: Release, subscriber_ids: np.ndarray, classes: np.ndarray) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"subscriber_id": subscriber_ids, "class": classes.astype(np.int32)}).to_parquet(
            self.root / f"{new.export_id}.classes.parquet", index=False
        )
        with (self.root / "ledger.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(new), ensure_ascii=False) + "\n")


def _smallest(joint: pd.DataFrame) -> int:
    """Size of the smallest joint class (subscribers absent from a release count as one value there)."""
    cols = [c for c in joint.columns if c.startswith("c_")]
    if not len(joint) or not cols:
        return 0
    return int(joint[cols].fillna(-1).groupby(cols, sort=False).size().min())
