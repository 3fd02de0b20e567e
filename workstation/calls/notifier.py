"""The one place that builds the screen-pop payloads sent to operators' browsers."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from billing_adapter.models import CardLookup


def card_payload(lookup: CardLookup | None) -> dict[str, Any]:
    if lookup is None:
        return {"state": "loading"}
    out: dict[str, Any] = {
        "state": lookup.state,
        "message": lookup.message,
        "msisdn": lookup.msisdn,
        "card": lookup.card.to_dict() if lookup.card else None,
        "matches": [asdict(m) for m in lookup.matches],
        "freshness": asdict(lookup.freshness) if lookup.freshness else None,
    }
    return out


def call_payload(call: Any) -> dict[str, Any]:
    """``call`` is a LiveCall (service.py)."""
    return {
        "id": call.call_id,
        "caller": call.caller,
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
