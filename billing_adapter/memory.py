"""In-memory billing: a fake ``BillingSource`` + ``CardLookupService`` for unit tests of other packages.

Usage::

    billing = MemoryBilling()
    billing.add(card, charges=[...], payments=[...])          # card.msisdn is its number
    billing.add(other_card, "79160000001")                    # extra numbers for a subscriber
    billing.down = True                                       # every call now behaves as a dead billing

It answers like the real cached front would: ``lookup_caller`` never raises, bad caller IDs give
``bad_number``, a dead billing gives ``unavailable``. ``queries`` counts the calls that "reached billing".
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from billing_adapter.models import (
    Card,
    CardLookup,
    Freshness,
    MonthCharges,
    Payment,
    SubscriberRef,
)
from billing_adapter.phones import BadNumber, normalise_msisdn
from billing_adapter.ports import BillingError

_FRESH = Freshness(source="billing", age_s=0.0, stale=False, billing_state="ok")
_DOWN = Freshness(source="cache", age_s=0.0, stale=True, billing_state="unavailable")


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


class MemoryBilling:
    """Dict-backed billing implementing both ``BillingSource`` and ``CardLookupService``."""

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

    async def start(self) -> None:
        """Nothing to listen to: the fake changes only when a test says so."""

    async def close(self) -> None:
        return None

    # ------------------------------------------------------------------ CardLookupService
    async def lookup_caller(self, raw_caller: str) -> CardLookup:
        try:
            msisdn = normalise_msisdn(raw_caller)
        except BadNumber as exc:
            return CardLookup(state="bad_number", message=str(exc))
        try:
            refs = await self.find_by_msisdn(msisdn)
        except BillingError:
            return CardLookup(
                state="unavailable", freshness=_DOWN, msisdn=msisdn, message="billing unavailable"
            )
        if not refs:
            return CardLookup(state="unknown", msisdn=msisdn, freshness=_FRESH)
        if len(refs) > 1:
            return CardLookup(state="multiple", matches=refs, msisdn=msisdn, freshness=_FRESH)
        found = await self.get_card(refs[0].subscriber_id)
        return CardLookup(
            state=found.state,
            card=found.card,
            freshness=found.freshness,
            message=found.message,
            msisdn=msisdn,
        )

    async def get_card(self, subscriber_id: str) -> CardLookup:
        try:
            card = await self.card(subscriber_id)
        except BillingError:
            return CardLookup(state="unavailable", freshness=_DOWN, message="billing unavailable")
        if card is None:
            return CardLookup(state="unknown", freshness=_FRESH, message="no such subscriber")
        return CardLookup(state="found", card=card, freshness=_FRESH, msisdn=card.msisdn)
