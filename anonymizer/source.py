"""Where the anonymizer reads billing from: chunks of the two batch queries, as pandas frames.

``batch_subscribers``: subscriber_id, birth_date, sex, region, tariff, activated_on, device_class, status.
``batch_monthly``: subscriber_id, month ('YYYY-MM'), voice, sms, data, subscription, roaming, other,
voice_min, sms_count, data_mb, payments_count, payments_sum, negative_days.

Both are keyset-paginated by subscriber id by the billing adapter, so memory stays bounded by one page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

import pandas as pd

SUBSCRIBER_COLUMNS = (
    "subscriber_id",
    "birth_date",
    "sex",
    "region",
    "tariff",
    "activated_on",
    "device_class",
    "status",
)
CHARGE_COLUMNS = ("voice", "sms", "data", "subscription", "roaming", "other")
USAGE_COLUMNS = ("voice_min", "sms_count", "data_mb")
MONTHLY_COLUMNS = (
    "subscriber_id",
    "month",
    *CHARGE_COLUMNS,
    *USAGE_COLUMNS,
    "payments_count",
    "payments_sum",
    "negative_days",
)


class BatchSource(Protocol):
    """Chunks of billing rows for one export."""

    def subscribers(self, chunk_size: int) -> Iterator[pd.DataFrame]: ...

    def monthly(self, month_from: str, month_to: str, chunk_size: int) -> Iterator[pd.DataFrame]: ...


class BillingBatchSource:
    """Over the billing adapter's ``iter_batches(query_name, params, chunk_size)`` (DB-API / ODBC)."""

    def __init__(self, billing: Any):
        fn = find_iter_batches(billing)
        if fn is None:
            raise TypeError("this billing source cannot read in batches (no iter_batches)")
        self._iter: Callable[..., Iterator[pd.DataFrame]] = fn

    def subscribers(self, chunk_size: int) -> Iterator[pd.DataFrame]:
        return self._iter("batch_subscribers", {}, chunk_size)

    def monthly(self, month_from: str, month_to: str, chunk_size: int) -> Iterator[pd.DataFrame]:
        return self._iter("batch_monthly", {"month_from": month_from, "month_to": month_to}, chunk_size)


def find_iter_batches(billing: Any) -> Callable[..., Iterator[pd.DataFrame]] | None:
    """``iter_batches`` of the billing object or of the source it wraps (the cached front keeps one)."""
    seen = 0
    obj = billing
    while obj is not None and seen < 4:
        fn = getattr(obj, "iter_batches", None)
        if callable(fn):
            return fn  # type: ignore[no-any-return]
        obj = getattr(obj, "source", None) or getattr(obj, "inner", None) or getattr(obj, "_source", None)
        seen += 1
    return None


class FrameSource:
    """Frames already in memory, or produced by callables (tests, the benchmark's generator)."""

    def __init__(
        self,
        subscribers: Iterable[pd.DataFrame] | Callable[[int], Iterable[pd.DataFrame]],
        monthly: Iterable[pd.DataFrame] | Callable[[str, str, int], Iterable[pd.DataFrame]],
    ):
        self._subs = subscribers
        self._monthly = monthly

    def subscribers(self, chunk_size: int) -> Iterator[pd.DataFrame]:
        src = self._subs(chunk_size) if callable(self._subs) else self._subs
        yield from src

    def monthly(self, month_from: str, month_to: str, chunk_size: int) -> Iterator[pd.DataFrame]:
        if callable(self._monthly):
            yield from self._monthly(month_from, month_to, chunk_size)
            return
        for frame in self._monthly:
            months = frame["month"].astype("string")
            yield frame[(months >= month_from) & (months <= month_to)]
