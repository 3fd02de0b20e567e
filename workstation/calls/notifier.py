"""The one place that builds the screen-pop payloads sent to operators' browsers."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from billing_adapter.formats import display_number
from billing_adapter.models import CardLookup


def match_payload(match: Any) -> dict[str, Any]:
    """One of several subscribers a number or a search found, with its number as people read it."""
    out = asdict(match)
    out["msisdn_display"] = display_number(out.get("msisdn"))
    return out


def card_payload(lookup: CardLookup | None) -> dict[str, Any]:
    if lookup is None:
        return {"state": "loading"}
    card = lookup.card.to_dict() if lookup.card else None
    if card is not None:
        card["msisdn_display"] = display_number(card.get("msisdn"))
    out: dict[str, Any] = {
        "state": lookup.state,
        "message": lookup.message,
        "msisdn": lookup.msisdn,
        "msisdn_display": display_number(lookup.msisdn),
        "card": card,
        "matches": [match_payload(m) for m in lookup.matches],
        "freshness": asdict(lookup.freshness) if lookup.freshness else None,
    }
    return out


def call_payload(call: Any) -> dict[str, Any]:
    """``call`` is a LiveCall (service.py)."""
    return {
        "id": call.call_id,
        "caller": call.caller,
        "caller_display": display_number(call.caller),
        "queue": call.queue,
        "state": call.state,
        "queued_at": call.queued_at,
        "offered_at": call.offered_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "subscriber_id": call.subscriber_id,
    }


def message(type_: str, call: Any, **extra: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {"type": type_, "v": 1, "call": call_payload(call)}
    msg.update(extra)
    return msg
