"""From per-subscriber features to the released table: generalise, microaggregate, label, pseudonymise.

The released record is every column of the bundle. Its scheme (see ``anonymizer.microaggregation``):

1. the quasi-identifiers (age, sex, region, tariff, tenure, device) are generalised and rare rows
   suppressed until each class has ≥ k rows — always over *all six*, whichever an export shows, so the
   partition of a period does not depend on the attributes asked for (RKN order No. 996: changing
   semantics, changing composition);
2. each class is cut into groups of ≥ k subscribers with ≥ l distinct ARPU bands, and every numeric
   behaviour column is replaced by its group centroid, then rounded; the value tier is the tier of the
   centroid ARPU, the behaviour cluster the group's majority (changing semantics);
3. the ARPU band, the sensitive attribute, is not released per row: only its group mean (``arpu``);
   l-diversity and t-closeness of the true bands over the released classes are measured and l enforced;
4. each row gets the HMAC pseudonym of its subscriber under the export's own key (introducing
   identifiers); nothing maps one to one to a date (months active and tenure are group means and bands)
   or to a suppressed attribute (the monthly fee is a group mean over several tariffs when the tariff is
   generalised).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from anonymizer.depersonalise import ARPU_BANDS, QUASI_IDENTIFIERS, enforce_k
from anonymizer.errors import AnonymizerError
from anonymizer.microaggregation import centroids, form_groups, majority, projection, sse_loss
from anonymizer.pseudonyms import pseudonyms
from anonymizer.risk import record_classes, release_report
from anonymizer.segmentation import BEHAVIOUR_FEATURES, value_tiers
from anonymizer.source import CHARGE_COLUMNS

# released numeric columns and the step each centroid is rounded to
ROUNDING: dict[str, float] = {
    "months_active": 0.1,
    "arpu": 10,
    **{f"{c}_per_month": 1 for c in CHARGE_COLUMNS},
    **{f"share_{c}": 0.01 for c in CHARGE_COLUMNS},
    "voice_min_per_month": 10,
    "sms_count_per_month": 1,
    "data_mb_per_month": 100,
    "payment_regularity": 0.01,
    "months_negative": 0.1,
}
SENSITIVE = "arpu_band"


class PrivacyNotMet(AnonymizerError):
    """Raised if a release measured on itself misses k or l (a bug guard: the build guarantees both)."""

    error_id = "export_privacy_not_met"


@dataclass
class Release:
    frame: pd.DataFrame  # in subscriber order, before shuffling
    subscriber_ids: np.ndarray
    classes: np.ndarray
    privacy: dict[str, Any]


def _band_codes(bands: np.ndarray) -> np.ndarray:
    """ARPU band labels → their order (0 = lowest band)."""
    codes = pd.Categorical(np.asarray(bands, dtype=object), categories=ARPU_BANDS[1]).codes
    return np.where(codes < 0, 0, codes).astype(np.int64)


def _behaviour_matrix(frame: pd.DataFrame) -> np.ndarray:
    cols = [*BEHAVIOUR_FEATURES, "arpu"]
    x = frame[cols].to_numpy(dtype=np.float64, na_value=0.0)
    for i, name in enumerate(cols):
        if name.endswith("_per_month") or name == "arpu":
            x[:, i] = np.log1p(np.clip(x[:, i], 0, None))
    return x


def depersonalise_release(
    feats: pd.DataFrame, k: int, l_min: int, attributes: list[str], key: bytes, max_suppression: float
) -> Release:
    """The released table for ``feats`` (per-subscriber features with ``arpu_band``, ``value_tier``,
    ``behaviour_cluster`` and ``behaviour_segment``), with its privacy report."""
    qis = list(QUASI_IDENTIFIERS)
    kan = enforce_k(feats, qis, k=k, max_suppression=max_suppression)
    kept = feats[kan.keep]
    gen = {q: kan.columns[q][kan.keep] for q in qis}
    class_id = pd.MultiIndex.from_arrays([pd.factorize(gen[q])[0] for q in qis]).factorize()[0]
    bands = _band_codes(kept[SENSITIVE].to_numpy())
    clusters = kept["behaviour_cluster"].to_numpy()
    groups = form_groups(
        class_id,
        [clusters, projection(_behaviour_matrix(kept))],
        bands,
        tie_break=kept.index.to_numpy(),
        k=k,
        l_min=l_min,
    )
    ok = groups.group >= 0
    members = kept[ok]
    numeric = list(ROUNDING)
    means = centroids(kept[numeric].astype(np.float64), groups.group)
    cluster = majority(clusters, groups.group)
    segment_name = dict(zip(feats["behaviour_cluster"], feats["behaviour_segment"], strict=True))

    out = pd.DataFrame({"pseudonym": pseudonyms(key, members.index.to_numpy())})
    for q in attributes:
        out[q] = pd.Categorical(gen[q][ok])
    out["value_tier"] = pd.Categorical(value_tiers(means["arpu"].to_numpy()))
    out["behaviour_cluster"] = cluster.astype(np.int16)
    out["behaviour_segment"] = pd.Categorical([segment_name[c] for c in cluster])
    for c, step in ROUNDING.items():
        out[c] = (np.round(means[c].to_numpy() / step) * step).astype(np.float32)

    risk = release_report(out, bands[ok], len(ARPU_BANDS[1]), k, l_min)
    if out.shape[0] and (risk["k_whole_record"] < k or risk["l_diversity"] < l_min):
        raise PrivacyNotMet(
            f"the release measured k={risk['k_whole_record']}, l={risk['l_diversity']}; refused",
            details=risk,
        )
    n = len(feats)
    suppressed = n - len(out)
    loss = sse_loss(kept.loc[ok, numeric].astype(np.float64), means)
    privacy = {
        "k_requested": k,
        "k_achieved": risk["k_whole_record"],
        "k_scope": "whole released record (every column but the pseudonym)",
        "l_required": l_min,
        "l_diversity_arpu_band": risk["l_diversity"],
        "t_closeness_arpu_band": risk["t_closeness"],
        "risk": {"prosecutor": risk["prosecutor"], "marketer": risk["marketer_risk"]},
        "sensitive_attributes": [SENSITIVE],
        "equivalence_classes": risk["prosecutor"].get("classes", 0),
        "rows_before_suppression": n,
        "rows_suppressed": suppressed,
        "rows_suppressed_for_l": groups.suppressed_for_l,
        "groups_merged_for_l": groups.merged_for_l,
        "suppressed_share": round(suppressed / n, 5) if n else 0.0,
        "suppression_target": max_suppression,
        "suppression_over_target": bool(n and suppressed / n > max_suppression),
        "generalisation_levels": kan.levels,
        "information_loss": {
            "per_attribute": kan.information_loss,
            "mean_generalisation_loss": round(
                float(np.mean(list(kan.information_loss.values()) or [0.0])), 4
            ),
            "microaggregation_sse_sst": loss,
            "suppressed_share": round(suppressed / n, 5) if n else 0.0,
        },
    }
    return Release(out, members.index.to_numpy(), record_classes(out), privacy)
