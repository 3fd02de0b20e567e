"""Segments: explainable value tiers by ARPU band, and behaviour clusters with their profiles.

Value tiers are plain rules on ARPU (monthly average charges over the period). Behaviour clusters come
from MiniBatchKMeans on the service mix and usage; the number of clusters is the one with the best
silhouette score on a sample, among 3..8 (the criterion is written into the manifest).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from anonymizer.depersonalise import ARPU_BANDS, band
from anonymizer.source import CHARGE_COLUMNS

VALUE_TIERS = ([0, 300, 700, 1500], ["low", "middle", "high", "premium"])
VALUE_TIER_RULE = "ARPU < 300 → low; 300–699 → middle; 700–1499 → high; ≥ 1500 → premium (roubles/month)"

BEHAVIOUR_FEATURES = [
    *(f"share_{c}" for c in CHARGE_COLUMNS),
    "voice_min_per_month",
    "sms_count_per_month",
    "data_mb_per_month",
    "payment_regularity",
    "months_negative",
]


def value_tiers(arpu: pd.Series | np.ndarray) -> np.ndarray:
    return band(arpu, VALUE_TIERS, unknown="low")


def arpu_bands(arpu: pd.Series | np.ndarray) -> np.ndarray:
    return band(arpu, ARPU_BANDS, unknown=ARPU_BANDS[1][0])


def _matrix(frame: pd.DataFrame) -> np.ndarray:
    x = np.ascontiguousarray(frame[BEHAVIOUR_FEATURES].to_numpy(dtype=np.float64, na_value=0.0))
    # volumes are heavy-tailed: log them so one heavy user does not make a cluster alone
    for i, name in enumerate(BEHAVIOUR_FEATURES):
        if name.endswith("_per_month"):
            x[:, i] = np.log1p(np.clip(x[:, i], 0, None))
    return x


@dataclass
class Clustering:
    labels: np.ndarray
    n_clusters: int
    criterion: dict[str, Any]
    names: dict[int, str]


def behaviour_clusters(
    frame: pd.DataFrame, k_range: range = range(3, 9), sample: int = 10_000, seed: int = 0
) -> Clustering:
    """Cluster on a sample, choose k by silhouette, label every row with the chosen model.

    Runs single-threaded: the sample is small, and OpenMP threads spinning against a busy machine cost
    far more than they give."""
    import sklearn.cluster  # noqa: F401  (load the OpenMP runtime before limiting it)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _behaviour_clusters(frame, k_range, sample, seed)


def _behaviour_clusters(frame: pd.DataFrame, k_range: range, sample: int, seed: int) -> Clustering:
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    n = len(frame)
    if n < 2 * max(k_range.start, 2):
        return Clustering(np.zeros(n, dtype=np.int16), 1, {"method": "too few rows to cluster"}, {0: "all"})
    x = _matrix(frame)
    rng = np.random.default_rng(seed)
    idx = rng.choice(n, size=min(n, sample), replace=False)
    scaler = StandardScaler().fit(x[idx])
    xs = scaler.transform(x[idx])
    sil_idx = rng.choice(len(xs), size=min(len(xs), 2500), replace=False)
    scores: dict[int, float] = {}
    models: dict[int, Any] = {}
    for k in k_range:
        if k >= len(xs):
            break
        model = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=1, batch_size=1024, max_iter=50).fit(
            xs
        )
        labels = model.labels_
        if len(set(labels[sil_idx])) < 2:
            continue
        scores[k] = float(silhouette_score(xs[sil_idx], labels[sil_idx]))
        models[k] = model
    if not scores:
        return Clustering(np.zeros(n, dtype=np.int16), 1, {"method": "no separable clusters"}, {0: "all"})
    best = max(scores, key=lambda k: scores[k])
    model = models[best]
    labels = np.empty(n, dtype=np.int16)
    step = 200_000
    for s in range(0, n, step):
        labels[s : s + step] = model.predict(scaler.transform(x[s : s + step]))
    centres = pd.DataFrame(scaler.inverse_transform(model.cluster_centers_), columns=BEHAVIOUR_FEATURES)
    criterion = {
        "method": "MiniBatchKMeans on standardised service mix and log usage",
        "choice": "highest silhouette score on a sample",
        "sample_rows": len(xs),
        "silhouette": {str(k): round(v, 4) for k, v in scores.items()},
        "chosen_k": best,
    }
    return Clustering(labels, best, criterion, _names(centres))


def _names(centres: pd.DataFrame) -> dict[int, str]:
    """A readable name per cluster from its centre: the category whose share stands out most against the
    average of the clusters (so a base where the fee dominates everywhere still gets telling names),
    plus risk flags."""
    names: dict[int, str] = {}
    share_cols = [f"share_{c}" for c in CHARGE_COLUMNS]
    mean = centres[share_cols].mean()
    for i, row in centres.iterrows():
        lift = {c: (row[c] - mean[c]) / max(mean[c], 0.01) for c in share_cols}
        top = max(share_cols, key=lambda c: lift[c]).removeprefix("share_")
        tags = [f"{top}-leaning"]
        if row["months_negative"] >= 1.0:
            tags.append("negative balance")
        if row["payment_regularity"] < 0.4:
            tags.append("irregular payer")
        names[int(str(i))] = ", ".join(tags)
    seen: dict[str, int] = {}
    for i in sorted(names):
        seen[names[i]] = seen.get(names[i], 0) + 1
        if seen[names[i]] > 1:
            names[i] = f"{names[i]} #{seen[names[i]]}"
    return names


def profiles(frame: pd.DataFrame, by: str) -> list[dict[str, Any]]:
    """Size, mean ARPU, service mix and usage of each segment in ``frame[by]``."""
    if frame.empty:
        return []
    cols = ["arpu", *(f"share_{c}" for c in CHARGE_COLUMNS), "data_mb_per_month", "voice_min_per_month",
            "sms_count_per_month", "payment_regularity"]  # fmt: skip
    g = frame.groupby(by, observed=True, sort=True)
    means = g[cols].mean()
    sizes = g.size()
    total = len(frame)
    out = []
    for seg, row in means.iterrows():
        out.append(
            {
                "segment": str(seg),
                "size": int(sizes[seg]),
                "share": round(int(sizes[seg]) / total, 4),
                "mean_arpu": round(float(row["arpu"]), 2),
                "service_mix": {c: round(float(row[f"share_{c}"]), 4) for c in CHARGE_COLUMNS},
                "mean_data_mb": round(float(row["data_mb_per_month"]), 1),
                "mean_voice_min": round(float(row["voice_min_per_month"]), 1),
                "mean_sms": round(float(row["sms_count_per_month"]), 1),
                "payment_regularity": round(float(row["payment_regularity"]), 3),
            }
        )
    return out
