"""Per-subscriber aggregates over a period, from chunks of billing rows (pandas, vectorised).

Charges by category, ARPU, usage volumes, payment regularity, days with a negative balance, plus the
subscriber's attributes reduced to what segmentation needs (age, tenure, sex, region, tariff, device).
Each monthly chunk is reduced to per-subscriber partial sums at once, so memory holds one chunk plus
one row per subscriber. Broken rows (a null or a negative where a charge, a volume or a count must be)
are left out and counted per column for the privacy report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from anonymizer.source import CHARGE_COLUMNS, USAGE_COLUMNS

NUMERIC_MONTHLY = (*CHARGE_COLUMNS, *USAGE_COLUMNS, "payments_count", "payments_sum", "negative_days")
# attributes kept from batch_subscribers; everything else a source may carry is dropped on read
ATTRIBUTE_COLUMNS = ("subscriber_id", "birth_date", "sex", "region", "tariff", "activated_on", "device_class")

Progress = Callable[[str, int], None]


@dataclass
class ReadReport:
    """What was read and what was left out, for the manifest."""

    subscribers: int = 0
    monthly_rows: int = 0
    broken_rows: int = 0
    broken_by_reason: Counter[str] = field(default_factory=Counter)
    dropped_columns: set[str] = field(default_factory=set)

    def to_dict(self) -> dict[str, object]:
        return {
            "subscribers_read": self.subscribers,
            "monthly_rows_read": self.monthly_rows,
            "broken_rows": self.broken_rows,
            "broken_by_reason": dict(sorted(self.broken_by_reason.items())),
            "columns_dropped_on_read": sorted(self.dropped_columns),
        }


def read_attributes(
    chunks: Iterable[pd.DataFrame], period_end: str, report: ReadReport, progress: Progress | None = None
) -> pd.DataFrame:
    """Subscriber attributes indexed by subscriber id: age and tenure (whole years / months at the end of
    the period), sex, region, tariff, device class. Exact dates do not survive this step."""
    end = pd.Timestamp(period_end + "-01") + pd.offsets.MonthEnd(0)
    parts: list[pd.DataFrame] = []
    for raw in chunks:
        extra = set(raw.columns) - set(ATTRIBUTE_COLUMNS) - {"status"}
        report.dropped_columns |= extra
        frame = raw.loc[:, [c for c in ATTRIBUTE_COLUMNS if c in raw.columns]]
        sid = pd.to_numeric(frame["subscriber_id"], errors="coerce")
        bad = sid.isna()
        if bad.any():
            report.broken_by_reason["subscriber_id:null"] += int(bad.sum())
            report.broken_rows += int(bad.sum())
        frame = frame[~bad]
        birth = pd.to_datetime(frame["birth_date"], errors="coerce")
        activated = pd.to_datetime(frame["activated_on"], errors="coerce")
        age = ((end - birth).dt.days // 365.25).astype("Float32")
        tenure = ((end.year - activated.dt.year) * 12 + (end.month - activated.dt.month)).astype("Float32")
        out = pd.DataFrame(
            {
                "age": age.to_numpy(dtype=np.float32, na_value=np.nan),
                "tenure_months": tenure.to_numpy(dtype=np.float32, na_value=np.nan),
                "sex": frame["sex"].astype("string").fillna("?").to_numpy(),
                "region": frame["region"].astype("string").fillna("?").to_numpy(),
                "tariff": frame["tariff"].astype("string").fillna("?").to_numpy(),
                "device_class": frame["device_class"].astype("string").fillna("?").to_numpy(),
            },
            index=pd.Index(sid[~bad].astype(np.int64).to_numpy(), name="subscriber_id"),
        )
        for col in ("sex", "region", "tariff", "device_class"):
            out[col] = out[col].astype("category")
        parts.append(out)
        report.subscribers += len(out)
        if progress:
            progress("subscribers", report.subscribers)
    if not parts:
        return pd.DataFrame(columns=["age", "tenure_months", "sex", "region", "tariff", "device_class"])
    result = pd.concat(parts)
    for col in ("sex", "region", "tariff", "device_class"):
        result[col] = result[col].astype("string").astype("category")
    return result[~result.index.duplicated(keep="last")]


def aggregate_monthly(
    chunks: Iterable[pd.DataFrame], report: ReadReport, progress: Progress | None = None
) -> pd.DataFrame:
    """Sum each chunk per subscriber at once; returns one row per subscriber with period totals."""
    partials: list[pd.DataFrame] = []
    seen = 0
    for raw in chunks:
        report.monthly_rows += len(raw)
        sid = pd.to_numeric(raw["subscriber_id"], errors="coerce")
        values = pd.DataFrame({c: pd.to_numeric(raw[c], errors="coerce") for c in NUMERIC_MONTHLY})
        null = values.isna()
        neg = values < 0
        bad = null.any(axis=1) | neg.any(axis=1) | sid.isna() | raw["month"].isna()
        if bad.any():
            report.broken_rows += int(bad.sum())
            for col in NUMERIC_MONTHLY:
                n_null, n_neg = int(null[col].sum()), int(neg[col].sum())
                if n_null:
                    report.broken_by_reason[f"{col}:null"] += n_null
                if n_neg:
                    report.broken_by_reason[f"{col}:negative"] += n_neg
            for col, series in (("subscriber_id", sid), ("month", raw["month"])):
                if series.isna().any():
                    report.broken_by_reason[f"{col}:null"] += int(series.isna().sum())
        good = ~bad.to_numpy()
        if not good.any():
            continue
        v = values[good].astype(np.float64)
        v["months"] = 1.0
        v["months_paid"] = (v["payments_count"] > 0).astype(np.float64)
        v["months_negative"] = (v["negative_days"] > 0).astype(np.float64)
        part = v.groupby(sid[good].astype(np.int64).to_numpy()).sum()
        partials.append(part)
        seen += len(part)
        if progress:
            progress("monthly", seen)
    if not partials:
        return pd.DataFrame()
    total = pd.concat(partials)
    if not total.index.is_unique:  # a subscriber split across two pages
        total = total.groupby(level=0).sum()
    total.index.name = "subscriber_id"
    return total


def subscriber_features(totals: pd.DataFrame, attributes: pd.DataFrame) -> pd.DataFrame:
    """Join period totals with attributes and derive ARPU, monthly volumes, mix and regularity.

    Subscribers with no usable month in the period are not part of the export (no behaviour to segment)."""
    frame = totals.join(attributes, how="inner")
    months = frame["months"].to_numpy()
    charges = frame[list(CHARGE_COLUMNS)].to_numpy()
    total = charges.sum(axis=1)
    out = pd.DataFrame(index=frame.index)
    out["months_active"] = months.astype(np.int16)
    out["arpu"] = (total / months).astype(np.float32)
    safe_total = np.where(total > 0, total, 1.0)
    for i, c in enumerate(CHARGE_COLUMNS):
        out[f"{c}_per_month"] = (charges[:, i] / months).astype(np.float32)
        out[f"share_{c}"] = (charges[:, i] / safe_total).astype(np.float32)
    for c in USAGE_COLUMNS:
        out[f"{c}_per_month"] = (frame[c].to_numpy() / months).astype(np.float32)
    out["payments_per_month"] = (frame["payments_sum"].to_numpy() / months).astype(np.float32)
    out["payment_regularity"] = (frame["months_paid"].to_numpy() / months).astype(np.float32)
    out["negative_days"] = frame["negative_days"].to_numpy().astype(np.int32)
    out["months_negative"] = frame["months_negative"].to_numpy().astype(np.int16)
    for c in ("age", "tenure_months", "sex", "region", "tariff", "device_class"):
        out[c] = frame[c]
    return out
