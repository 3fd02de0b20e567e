"""Side by side on the same input: our release (generalisation + microaggregation to group centroids)
against anjana (the pycanon authors' k-anonymity / l-diversity library, generalisation and suppression
only), both asked for k over the whole released record and l ≥ 2 on the ARPU band.

The input is the per-subscriber feature table of a generated billing. For anjana every released column
is a quasi-identifier with a generalisation hierarchy: the six attributes get ours (bands, federal
district, "other", "*"), each numeric behaviour column gets rounding steps ×1, ×4, ×16, then "*".
Information loss is measured the same way for both: SSE/SST of each numeric column against the true
values (a generalised interval counts at its midpoint, "*" at the column mean, a suppressed row at the
column mean) and the share of rows suppressed. pycanon checks k and l of both outputs.

anjana is installed apart (``pip install --no-deps anjana``: its exact version pins contradict the
project's pydantic); without it the comparison says so and is skipped.
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

ANJANA_HOW = "pip install --no-deps anjana beartype"


def features(n: int, seed: int = 5) -> pd.DataFrame:
    """Per-subscriber features with segments, exactly as ``build_dataset`` computes them."""
    from anonymizer.aggregate import ReadReport, aggregate_monthly, read_attributes, subscriber_features
    from anonymizer.segmentation import arpu_bands, behaviour_clusters, value_tiers
    from anonymizer.synthetic import SyntheticBilling

    src = SyntheticBilling(n, month_to="2026-06", months=6, seed=seed).source()
    rr = ReadReport()
    attrs = read_attributes(src.subscribers(50_000), "2026-06", rr)
    feats = subscriber_features(aggregate_monthly(src.monthly("2026-01", "2026-06", 50_000), rr), attrs)
    feats["arpu_band"] = arpu_bands(feats["arpu"])
    feats["value_tier"] = value_tiers(feats["arpu"])
    clustering = behaviour_clusters(feats, seed=0)
    feats["behaviour_cluster"] = clustering.labels
    names = np.array([clustering.names[i] for i in range(clustering.n_clusters)], dtype=object)
    feats["behaviour_segment"] = names[clustering.labels]
    return feats


def _sse_sst(truth: pd.DataFrame, released: pd.DataFrame) -> float:
    num = den = 0.0
    for c in truth.columns:
        x = truth[c].to_numpy(np.float64)
        y = released[c].to_numpy(np.float64)
        var = float(x.var()) or 1.0
        num += float(((x - y) ** 2).sum()) / var
        den += float(((x - x.mean()) ** 2).sum()) / var
    return round(num / den, 4) if den else 0.0


def ours(feats: pd.DataFrame, k: int) -> dict[str, Any]:
    from pycanon import anonymity

    from anonymizer.depersonalise import QUASI_IDENTIFIERS
    from anonymizer.release import ROUNDING, depersonalise_release

    t0 = time.perf_counter()
    rel = depersonalise_release(feats, k, 2, list(QUASI_IDENTIFIERS), b"k" * 32, 0.05)
    seconds = time.perf_counter() - t0
    out = rel.frame
    cols = [c for c in out.columns if c != "pseudonym"]
    numeric = list(ROUNDING)
    truth = feats[numeric].astype(np.float64)
    released = truth.copy()
    released[:] = truth.mean().to_numpy()  # suppressed rows: only the mean is left of them
    released.loc[rel.subscriber_ids, numeric] = out[numeric].to_numpy(np.float64)
    bands = feats.loc[rel.subscriber_ids, "arpu_band"].astype(str).to_numpy()
    frame = out[cols].astype(str).assign(arpu_band=bands)
    return {
        "seconds": round(seconds, 3),
        "rows_released": len(out),
        "suppressed_share": round(1 - len(out) / len(feats), 4),
        "k_whole_record_pycanon": int(anonymity.k_anonymity(frame, cols)) if len(out) else 0,
        "l_arpu_band_pycanon": int(anonymity.l_diversity(frame, cols, ["arpu_band"])) if len(out) else 0,
        "information_loss_sse_sst": _sse_sst(truth, released),
    }


def _numeric_hierarchy(values: np.ndarray, step: float) -> dict[int, np.ndarray]:
    """Levels for one numeric column: the value, rounded to 4·step and 16·step intervals, then "*"."""
    distinct = np.unique(values)
    levels: dict[int, np.ndarray] = {0: distinct}
    for level, width in ((1, 4 * step), (2, 16 * step)):
        low = np.floor(distinct / width) * width
        levels[level] = np.array([f"[{a:g},{a + width:g})" for a in low], dtype=object)
    levels[3] = np.full(len(distinct), "*", dtype=object)
    return levels


def _midpoints(column: pd.Series, mean: float) -> np.ndarray:
    out = np.empty(len(column))
    for i, v in enumerate(column.to_numpy()):
        if isinstance(v, str):
            if v.startswith("["):
                a, b = v[1:-1].split(",")
                out[i] = (float(a) + float(b)) / 2
            else:
                out[i] = mean
        else:
            out[i] = float(v)
    return out


def anjana_release(feats: pd.DataFrame, k: int) -> dict[str, Any]:
    """anjana's l-diversity (which first makes the data k-anonymous) over the same released record."""
    try:
        import anjana.anonymity as anj
        from pycanon import anonymity
    except ImportError as exc:
        return {"skipped": f"anjana is not installed ({exc.name}): {ANJANA_HOW}"}
    from anonymizer.depersonalise import QUASI_IDENTIFIERS, hierarchies
    from anonymizer.release import ROUNDING

    numeric = list(ROUNDING)
    data = pd.DataFrame(index=feats.index)
    levels = hierarchies(feats)
    hier: dict[str, dict[int, Any]] = {}
    for q in QUASI_IDENTIFIERS:
        table = pd.DataFrame(
            {i: pd.Series(v, dtype=object) for i, v in enumerate(levels[q])}
        ).drop_duplicates(0)
        data[q] = pd.Series(levels[q][0], dtype=object, index=data.index)
        hier[q] = {i: pd.Series(table[i].to_numpy(), dtype=object) for i in table.columns}
    for c in numeric:
        values = (np.round(feats[c].to_numpy(np.float64) / ROUNDING[c]) * ROUNDING[c]).round(6)
        data[c] = pd.Series(values, dtype=object, index=data.index)
        hier[c] = {i: pd.Series(v, dtype=object) for i, v in _numeric_hierarchy(values, ROUNDING[c]).items()}
    data["arpu_band"] = pd.Series(feats["arpu_band"].astype(str).to_numpy(), dtype=object, index=data.index)
    data = data.reset_index(drop=True)
    qis = [*QUASI_IDENTIFIERS, *numeric]
    t0 = time.perf_counter()
    # anjana pins pandas 2: with pandas 3's string inference its hierarchy lookups fail the beartype checks
    with warnings.catch_warnings(), pd.option_context("future.infer_string", False):
        warnings.simplefilter("ignore")
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # anjana prints its progress
                out = anj.l_diversity(data, [], qis, "arpu_band", k, 2, 5, hier)
        except Exception as exc:  # report what anjana said, do not hide it
            return {
                "failed": f"{type(exc).__name__}: {exc}"[:300],
                "seconds": round(time.perf_counter() - t0, 3),
            }
    seconds = time.perf_counter() - t0
    if out is None or len(out) == 0:
        return {"seconds": round(seconds, 3), "rows_released": 0, "note": "anjana found no solution"}
    truth = feats[numeric].astype(np.float64).reset_index(drop=True)
    # anjana resets the index when it suppresses, keeping the old one as a column "index"
    kept = (out["index"] if "index" in out.columns else out.index).to_numpy(dtype=np.int64)
    released = pd.DataFrame({c: np.full(len(truth), truth[c].mean()) for c in numeric})
    for c in numeric:
        released.loc[kept, c] = _midpoints(out[c], float(truth[c].mean()))
    frame = out[[*qis, "arpu_band"]].astype(str)
    return {
        "seconds": round(seconds, 3),
        "rows_released": len(out),
        "suppressed_share": round(1 - len(out) / len(feats), 4),
        "k_whole_record_pycanon": int(anonymity.k_anonymity(frame, qis)),
        "l_arpu_band_pycanon": int(anonymity.l_diversity(frame, qis, ["arpu_band"])),
        "information_loss_sse_sst": _sse_sst(truth, released),
        "numeric_columns_fully_generalised": int(sum((out[c].astype(str) == "*").all() for c in numeric)),
    }


def compare(n: int, k: int) -> dict[str, Any]:
    """Both on the same ``n`` subscribers; anjana's row-by-row hierarchy lookups limit ``n``."""
    feats = features(n)
    return {"subscribers": len(feats), "k": k, "ours": ours(feats, k), "anjana": anjana_release(feats, k)}
