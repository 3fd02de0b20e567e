"""Re-identification risk of a release, measured on the released file itself, the way ARX reports it.

* Equivalence classes are formed over the *whole* released record: every column but the pseudonym
  (the pseudonym differs per export and per subscriber by construction, so it carries no knowledge an
  attacker could match; everything else might be known or recomputed by someone).
* Prosecutor model (ARX "re-identification risks"): a record's risk is 1 / size of its class; reported
  are the highest risk, the share of records whose risk exceeds the threshold ("records at risk") and the
  average risk ("success rate": classes / records, which is also the marketer risk).
* l-diversity (distinct l, Machanavajjhala et al. 2007) and t-closeness (Li, Li & Venkatasubramanian
  2007; Earth Mover's Distance over the ordered ARPU bands) of the sensitive attribute, which is not
  released per row: they are computed inside the workstation from each member's true band, over the
  released classes.

These are the figures the manifest carries; the tests recompute k and l with pycanon.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def record_classes(frame: pd.DataFrame, exclude: tuple[str, ...] = ("pseudonym",)) -> np.ndarray:
    """Class number of each row over every column but ``exclude`` (a 64-bit hash of the row, then
    ``np.unique``: exact for any practical size)."""
    cols = [c for c in frame.columns if c not in exclude]
    if not len(frame):
        return np.zeros(0, dtype=np.int64)
    if not cols:
        return np.zeros(len(frame), dtype=np.int64)
    hashed = pd.util.hash_pandas_object(frame[cols], index=False).to_numpy()
    _, inverse = np.unique(hashed, return_inverse=True)
    return inverse.astype(np.int64)


def prosecutor_risk(classes: np.ndarray, threshold: float) -> dict[str, Any]:
    """ARX's prosecutor figures for a class assignment."""
    n = len(classes)
    if n == 0:
        return {"highest_risk": 0.0, "records_at_risk": 0.0, "average_risk": 0.0, "threshold": threshold}
    _, inverse, counts = np.unique(classes, return_inverse=True, return_counts=True)
    risk = 1.0 / counts[inverse]
    return {
        "highest_risk": round(float(risk.max()), 6),
        "records_at_risk": round(float((risk > threshold + 1e-12).mean()), 6),
        "average_risk": round(len(counts) / n, 6),
        "threshold": round(threshold, 6),
        "smallest_class": int(counts.min()),
        "classes": len(counts),
    }


def l_diversity(classes: np.ndarray, sensitive: np.ndarray) -> int:
    """The smallest number of distinct sensitive values in any class."""
    if len(classes) == 0:
        return 0
    frame = pd.DataFrame({"c": classes, "s": sensitive})
    return int(frame.groupby("c", sort=False)["s"].nunique().min())


def t_closeness(classes: np.ndarray, sensitive_codes: np.ndarray, n_values: int) -> dict[str, float]:
    """Ordered EMD between each class's distribution of the sensitive value and the whole release's:
    EMD = Σ_i |Σ_{j≤i} (p_j − q_j)| / (m − 1). Returns the largest (the release's t) and the mean."""
    if len(classes) == 0 or n_values < 2:
        return {"t": 0.0, "mean": 0.0}
    _, cls = np.unique(classes, return_inverse=True)
    counts = np.zeros((int(cls.max()) + 1, n_values))
    np.add.at(counts, (cls, sensitive_codes), 1.0)
    p = counts / counts.sum(axis=1, keepdims=True)
    q = counts.sum(axis=0) / counts.sum()
    emd = np.abs(np.cumsum(p - q, axis=1)[:, :-1]).sum(axis=1) / (n_values - 1)
    return {"t": round(float(emd.max()), 4), "mean": round(float(emd.mean()), 4)}


def release_report(
    frame: pd.DataFrame, sensitive_codes: np.ndarray, n_values: int, k: int, l_min: int
) -> dict[str, Any]:
    """Everything the manifest says about the risk of ``frame`` (the rows exactly as released)."""
    classes = record_classes(frame)
    risk = prosecutor_risk(classes, threshold=1.0 / k)
    return {
        "k_whole_record": risk.get("smallest_class", 0),
        "prosecutor": risk,
        "marketer_risk": risk["average_risk"],
        "l_diversity": l_diversity(classes, sensitive_codes),
        "l_required": l_min,
        "t_closeness": t_closeness(classes, sensitive_codes, n_values),
    }
