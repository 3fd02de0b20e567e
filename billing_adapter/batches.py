"""Typed pandas frames out of the batch queries (``batch_subscribers``, ``batch_monthly``) for issue 6."""

from __future__ import annotations

import numpy as np
import pandas as pd

from billing_adapter.mapping import Query


def convert_frame(query: Query, raw: pd.DataFrame) -> pd.DataFrame:
    """Apply the mapping's converters and the contract's types, column by column (vectorised).

    Rows of ``batch_monthly`` whose ``month`` is NULL are keyset markers (a subscriber with no month in
    range) and are dropped here.
    """
    out = pd.DataFrame(index=raw.index)
    for col in query.columns:
        series = raw[col]
        conv = query.frame_converters.get(col)
        if conv is not None and conv[0] == "scale":
            series = pd.to_numeric(series, errors="coerce").astype(float) * conv[1]
        elif conv is not None:
            series = series.map(query.converters[col])
        kind = query.spec.columns[col]
        if kind == "float":
            series = pd.to_numeric(series, errors="coerce").astype(float).fillna(0.0).round(2)
        elif kind == "int":
            series = pd.to_numeric(series, errors="coerce").fillna(0).astype(np.int64)
        elif kind == "date":
            series = pd.to_datetime(series.astype("string").str.slice(0, 10), errors="coerce")
        else:
            series = series.astype("string").str.strip()
        out[col] = series
    if "month" in out.columns:
        out = out[out["month"].notna()].reset_index(drop=True)
    return out
