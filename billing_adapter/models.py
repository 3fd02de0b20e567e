"""What billing returns, as plain dataclasses (money in roubles as Decimal-safe floats rounded to kopecks)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class SubscriberRef:
    """A search hit: enough to tell matches apart in a short list."""

    subscriber_id: str
    name: str
    msisdn: str
    account: str
    contract: str
    status: str  # active | blocked | suspended | closed
    region: str = ""  # tells apart namesakes (mappings that do not select it leave it empty)


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    status: str  # active | suspended | …
    monthly_fee: float
    since: date | None = None


@dataclass(frozen=True)
class Card:
    """The subscriber card's top band and services."""

    subscriber_id: str
    name: str
    first_name: str
    msisdn: str
    account: str
    contract: str
    status: str
    balance: float
    credit_limit: float
    arpu: float  # average monthly charges over the last 3 full months
    tariff: str
    region: str
    since: date | None
    services: list[Service] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["since"] = self.since.isoformat() if self.since else None
        for s in d["services"]:
            s["since"] = s["since"].isoformat() if s["since"] else None
        return d


@dataclass(frozen=True)
class ChargeItem:
    category: str  # voice | sms | data | subscription | roaming | other
    description: str
    amount: float
    quantity: float | None = None
    unit: str | None = None


@dataclass(frozen=True)
class MonthCharges:
    month: str  # YYYY-MM
    total: float
    items: list[ChargeItem] = field(default_factory=list)


@dataclass(frozen=True)
class Payment:
    paid_at: str  # ISO date-time
    amount: float
    method: str


@dataclass(frozen=True)
class Freshness:
    """How fresh the data on a card is, so the UI can say when it is stale."""

    source: str  # "billing" (just read) | "cache"
    age_s: float  # seconds since billing produced it
    stale: bool  # older than its TTL (served because billing is slow or down)
    billing_state: str  # "ok" | "degraded" (slow / half-open) | "unavailable" (down / breaker open)


@dataclass(frozen=True)
class CardLookup:
    """What the card screen shows for a caller or a chosen subscriber.

    state: ``found`` (card set), ``multiple`` (matches set: one number on several accounts),
    ``unknown`` (no subscriber on this number), ``bad_number`` (caller ID is not a phone number),
    ``unavailable`` (billing down and nothing cached).
    """

    state: str
    card: Card | None = None
    matches: list[SubscriberRef] = field(default_factory=list)
    freshness: Freshness | None = None
    message: str = ""
    msisdn: str | None = None
