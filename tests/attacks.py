"""Attacks on a segmentation export, as a sceptical reader would play them, and the ground truth to score
them (the truth comes from re-linking with the key, which only the test — standing in for the
workstation — holds; the attacker never uses it).

Each attack returns the expected share of released rows (or of subscribers) it attributes to the right
person when it guesses uniformly among the candidates it cannot tell apart: Σ [truth ∈ candidates] /
|candidates|, divided by the number of targets. That is the figure to hold against 1/k.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from anonymizer.pseudonyms import derive_key, export_context, pseudonyms


def release(bundle: Path) -> pd.DataFrame:
    return pd.read_parquet(bundle / "data.parquet")


def truth(frame: pd.DataFrame, master: bytes, export_id: str, ids: np.ndarray) -> np.ndarray:
    """The billing id behind each released row (the workstation's re-link, for scoring only)."""
    mapping = dict(zip(pseudonyms(derive_key(master, export_context(export_id)), ids), ids, strict=True))
    return np.array([mapping[p] for p in frame["pseudonym"]], dtype=np.int64)


def row_hash(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    return pd.util.hash_pandas_object(frame[columns].astype(str), index=False).to_numpy()


def join_success(
    a: pd.DataFrame, a_ids: np.ndarray, b: pd.DataFrame, b_ids: np.ndarray, on: list[str]
) -> float:
    """Rows of ``a`` joined to rows of ``b`` on equal ``on`` values: the expected share of rows of ``a``
    linked to the row of the same subscriber in ``b`` (guessing uniformly among equal candidates)."""
    left = pd.DataFrame({"h": row_hash(a, on), "id": a_ids})
    right = pd.DataFrame({"h": row_hash(b, on), "id": b_ids})
    sizes = right.groupby("h").size().rename("n_candidates")
    hits = left.merge(right, on=["h", "id"], how="inner").merge(sizes, left_on="h", right_index=True)
    return float((1.0 / hits["n_candidates"]).sum() / len(left)) if len(left) else 0.0


def max_unique_share(frame: pd.DataFrame, columns: list[str]) -> float:
    """Share of rows that are alone on ``columns`` (the fingerprint the issue found: 100 %)."""
    h = row_hash(frame, columns)
    _, inv, counts = np.unique(h, return_inverse=True, return_counts=True)
    return float((counts[inv] == 1).mean()) if len(h) else 0.0


def smallest_class(frame: pd.DataFrame, columns: list[str]) -> int:
    h = row_hash(frame, columns)
    return int(np.unique(h, return_counts=True)[1].min()) if len(h) else 0
