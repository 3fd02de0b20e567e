"""A card as the cache stores it (plain JSON-able dicts: the profile part and the balance part) and back."""

from __future__ import annotations

from datetime import date
from typing import Any

from billing_adapter.models import Card, Service


def card_dict(card: Card) -> dict[str, Any]:
    """``Card.to_dict`` without ``dataclasses.asdict``'s deep copies (the cold pop's hot path)."""
    d = dict(card.__dict__)
    d["since"] = card.since.isoformat() if card.since else None
    d["extra"] = dict(card.extra)
    d["services"] = [{**s.__dict__, "since": s.since.isoformat() if s.since else None} for s in card.services]
    return d


def card_from(profile: dict[str, Any], balance: dict[str, Any] | None) -> Card:
    data = dict(profile)
    if balance:
        data.update(balance)
    services = [
        Service(s["code"], s["name"], s["status"], s["monthly_fee"], _date(s.get("since")))
        for s in data.pop("services", [])
    ]
    data["since"] = _date(data.get("since"))
    return Card(**{**data, "services": services})


def _date(v: Any) -> date | None:
    if v is None or isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])
