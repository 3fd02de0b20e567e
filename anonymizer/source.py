"""Where the anonymizer reads billing from: chunks of the two batch queries, as pandas frames.

``batch_subscribers``: subscriber_id, birth_date, sex, region, tariff, activated_on, device_class, status.
``batch_monthly``: subscriber_id, month ('YYYY-MM'), voice, sms, data, subscription, roaming, other,
voice_min, sms_count, data_mb, payments_count, payments_sum, negative_days.

Both are keyset-paginated by subscriber id by the billing adapter, so memory stays bounded by one page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

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


@runtime_checkable
class BatchQueries(Protocol):
    """What the anonymizer needs of a billing: the two keyset-paginated batch queries
    (``billing_adapter``'s DB-API source and its cached front both answer them)."""

    def iter_batches(
        self, query_name: str, params: Mapping[str, Any] | None = None, chunk_size: int = 10_000
    ) -> Iterator[pd.DataFrame]: ...


class BillingBatchSource:
    """Over the billing's ``iter_batches(query_name, params, chunk_size)`` (DB-API / ODBC)."""

    def __init__(self, billing: BatchQueries):
        self._billing = billing

    def subscribers(self, chunk_size: int) -> Iterator[pd.DataFrame]:
        return self._billing.iter_batches("batch_subscribers", {}, chunk_size)

    def monthly(self, month_from: str, month_to: str, chunk_size: int) -> Iterator[pd.DataFrame]:
        return self._billing.iter_batches(
            "batch_monthly", {"month_from": month_from, "month_to": month_to}, chunk_size
        )


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
