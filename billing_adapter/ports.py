"""The billing port. The ODBC adapter, the demo SQLite adapter and the cache all implement it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

from billing_adapter.errors import BillingError
from billing_adapter.models import Card, CardLookup, MonthCharges, Payment, SubscriberRef

__all__ = ["BatchReader", "BillingError", "BillingFront", "BillingSource", "CardLookupService"]


class BillingSource(Protocol):
    async def find_by_msisdn(self, msisdn: str) -> list[SubscriberRef]:
        """Subscribers on this number (normalised E.164 digits, e.g. ``79161234567``); [] if none."""
        ...

    async def search(self, query: str, limit: int = 20) -> list[SubscriberRef]:
        """By MSISDN, account, contract or name (the query text is only ever a bound parameter)."""
        ...

    async def card(self, subscriber_id: str) -> Card | None: ...

    async def charges(self, subscriber_id: str, months: int = 6) -> list[MonthCharges]: ...

    async def payments(self, subscriber_id: str, limit: int = 50) -> list[Payment]: ...

    async def health(self) -> dict[str, object]: ...

    async def close(self) -> None: ...


class CardLookupService(Protocol):
    """The cached, resilient front the workstation uses (``workstation.adapters.make_billing``
    returns an object that is both a ``BillingSource`` and this). Never raises for billing trouble:
    it answers within ``settings.billing_timeout_s`` with what the cache has and a freshness mark."""

    async def lookup_caller(self, raw_caller: str) -> CardLookup:
        """Caller ID as Asterisk gives it → card / matches / unknown / bad_number / unavailable."""
        ...

    async def get_card(self, subscriber_id: str) -> CardLookup: ...


class BillingFront(BillingSource, CardLookupService, Protocol):
    """What the workstation holds as its billing: the source's reads plus the cached caller lookup.
    ``CachedBilling`` (production, demo) and ``MemoryBilling`` (unit tests) implement it."""

    async def start(self) -> None:
        """Listen for billing's change notices (with a Redis cache); called once at start-up."""
        ...


@runtime_checkable
class BatchReader(Protocol):
    """Bulk reads for the anonymizer, implemented by the DB-API source (``DbApiBilling``).

    ``iter_batches("batch_subscribers" | "batch_monthly", {"month_from": "YYYY-MM", "month_to": "YYYY-MM"},
    chunk_size)`` yields typed pandas DataFrames, keyset-paginated by subscriber id (``after_id`` in params
    resumes), each holding at most ``chunk_size`` subscribers; runs in the caller's thread.
    """

    def iter_batches(
        self, query_name: str, params: Mapping[str, Any] | None = None, chunk_size: int = 10_000
    ) -> Iterator[Any]: ...
