"""The billing port. The ODBC adapter, the demo SQLite adapter and the cache all implement it."""

from __future__ import annotations

from typing import Protocol

from billing_adapter.models import Card, MonthCharges, Payment, SubscriberRef


class BillingError(Exception):
    """Billing could not answer (down, timeout, broken mapping). ``error_id`` is stable for the UI."""

    error_id = "billing_unavailable"

    def __init__(self, message: str, *, error_id: str | None = None):
        super().__init__(message)
        if error_id:
            self.error_id = error_id


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
