"""In-memory billing for the tests of other packages: the real cached front over a dict-backed source.

Usage::

    billing = MemoryBilling()
    billing.add(card, charges=[...], payments=[...])          # card.msisdn is its number
    billing.add(other_card, "79160000001")                    # extra numbers for a subscriber
    billing.down = True                                       # every call now behaves as a dead billing

``MemoryBilling`` is ``CachedBilling`` itself (the lookup logic production runs: caller-ID parsing, single
flight, the breaker, the deadline, the freshness marks) over a ``MemorySource``, with a cache that keeps
nothing, so a test's change to the source is seen at the next lookup. ``lookup_caller`` never raises, bad
caller IDs give ``bad_number``, a dead billing gives ``unavailable``. ``queries`` counts the calls that
"reached billing". ``MemorySource`` alone is a ``BillingSource`` to put behind a front of one's own.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from billing_adapter.cache import CachedBilling
from billing_adapter.models import Card, MonthCharges, Payment, SubscriberRef
from billing_adapter.phones import BadNumber, normalise_msisdn
from billing_adapter.ports import BillingError


def ref_of(card: Card, msisdn: str | None = None) -> SubscriberRef:
    """The search hit for a card (optionally on another of its numbers)."""
    return SubscriberRef(
        subscriber_id=card.subscriber_id,
        name=card.name,
        msisdn=msisdn or card.msisdn,
        account=card.account,
        contract=card.contract,
        status=card.status,
        region=card.region,
    )


def make_card(subscriber_id: str = "1", msisdn: str = "79161234567", **fields: object) -> Card:
    """A plausible card for tests; any field may be overridden."""
    base: dict[str, object] = dict(
        subscriber_id=subscriber_id,
        name="Иванов Иван Иванович",
        first_name="Иван",
        msisdn=msisdn,
        account=f"ACC{int(subscriber_id):08d}"
        if subscriber_id.isascii() and subscriber_id.isdigit()
        else f"ACC-{subscriber_id}",
        contract=f"D-{subscriber_id}",
        status="active",
        balance=150.0,
        credit_limit=0.0,
        arpu=450.0,
        tariff="Базовый",
        region="Москва",
        since=date(2020, 1, 15),
    )
    base.update(fields)
    return Card(**base)  # type: ignore[arg-type]


class MemorySource:
    """A dict-backed ``BillingSource``: what a real billing database would answer, for tests."""

    def __init__(self) -> None:
        self.cards: dict[str, Card] = {}
        self.numbers: dict[str, list[str]] = defaultdict(list)  # msisdn -> subscriber ids
        self.charge_rows: dict[str, list[MonthCharges]] = {}
        self.payment_rows: dict[str, list[Payment]] = {}
        self.down = False
        self.queries = 0

    # ------------------------------------------------------------------ helpers for tests
    def add(
        self,
        card: Card,
        *extra_msisdns: str,
        charges: list[MonthCharges] | None = None,
        payments: list[Payment] | None = None,
    ) -> SubscriberRef:
        """Register a subscriber under ``card.msisdn`` and any extra numbers; returns its search hit."""
        self.cards[card.subscriber_id] = card
        for number in (card.msisdn, *extra_msisdns):
            ids = self.numbers[normalise_msisdn(number)]
            if card.subscriber_id not in ids:
                ids.append(card.subscriber_id)
        self.charge_rows[card.subscriber_id] = list(charges or [])
        self.payment_rows[card.subscriber_id] = list(payments or [])
        return ref_of(card)

    def _hit(self) -> None:
        self.queries += 1
        if self.down:
            raise BillingError("billing is down (memory fake)")

    # ------------------------------------------------------------------ BillingSource
    async def find_by_msisdn(self, msisdn: str) -> list[SubscriberRef]:
        self._hit()
        return [ref_of(self.cards[i], msisdn) for i in self.numbers.get(msisdn, [])]

    async def search(self, query: str, limit: int = 20) -> list[SubscriberRef]:
        self._hit()
        q = (query or "").strip().lower()
        if not q:
            return []
        try:
            number: str | None = normalise_msisdn(q)
        except BadNumber:
            number = None
        hits: list[SubscriberRef] = []
        for card in self.cards.values():
            if (
                (number and number in self.numbers and card.subscriber_id in self.numbers[number])
                or q == card.account.lower()
                or q == card.contract.lower()
                or q in card.name.lower()
            ):
                hits.append(ref_of(card))
        return hits[:limit]

    async def card(self, subscriber_id: str) -> Card | None:
        self._hit()
        return self.cards.get(subscriber_id)

    async def charges(self, subscriber_id: str, months: int = 6) -> list[MonthCharges]:
        self._hit()
        return self.charge_rows.get(subscriber_id, [])[:months]

    async def payments(self, subscriber_id: str, limit: int = 50) -> list[Payment]:
        self._hit()
        return self.payment_rows.get(subscriber_id, [])[:limit]

    async def health(self) -> dict[str, object]:
        return {"backend": "memory", "ok": not self.down, "breaker": "open" if self.down else "closed"}

    async def close(self) -> None:
        return None


class NoStore:
    """A ``CacheStore`` that keeps nothing: every lookup of the memory front reaches its source."""

    async def get(self, key: str) -> dict[str, Any] | None:
        return None

    async def get_many(self, *keys: str) -> list[dict[str, Any] | None]:
        return [None for _ in keys]

    async def set(self, key: str, entry: dict[str, Any], keep_s: float) -> None:
        return None

    async def set_many(self, entries: list[tuple[str, dict[str, Any]]], keep_s: float) -> None:
        return None

    async def delete(self, *keys: str) -> None:
        return None

    async def close(self) -> None:
        return None


class MemoryBilling(CachedBilling):
    """The cached front over a ``MemorySource`` (see the module docstring); the source's test helpers
    (``add``, ``down``, ``queries``, ``cards``) are reachable on the front."""

    pending_s = 0.0  # no read-your-writes window either: nothing is cached

    def __init__(self, source: MemorySource | None = None, **options: Any) -> None:
        super().__init__(source or MemorySource(), NoStore(), **options)
        self.memory: MemorySource = self.source  # type: ignore[assignment]

    def add(
        self,
        card: Card,
        *extra_msisdns: str,
        charges: list[MonthCharges] | None = None,
        payments: list[Payment] | None = None,
    ) -> SubscriberRef:
        return self.memory.add(card, *extra_msisdns, charges=charges, payments=payments)

    @property
    def down(self) -> bool:
        return self.memory.down

    @down.setter
    def down(self, value: bool) -> None:
        self.memory.down = value

    @property
    def queries(self) -> int:
        return self.memory.queries

    @property
    def cards(self) -> dict[str, Card]:
        return self.memory.cards
