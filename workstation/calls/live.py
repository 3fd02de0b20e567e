"""The state of a call in progress on this node (what screens and the floor show)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from billing_adapter.models import CardLookup

LIVE_STATES = ("queued", "ringing", "connected", "wrap_up")
# the card of a call whose caller ID Asterisk reports as <unknown> (or none): search, like "anonymous"
NO_CALLER_ID = CardLookup(state="bad_number", message="no caller ID")


@dataclass
class LiveCall:
    call_id: str
    caller: str
    queue: str | None = None
    state: str = "queued"
    queued_at: float | None = None
    offered_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    subscriber_id: str | None = None
    lookup: CardLookup | None = None
    lookup_task: asyncio.Task[CardLookup] | None = None
    ringing: set[int] = field(default_factory=set)  # users whose phone rings now
    operator_id: int | None = None
    record_done: bool = False  # the request record was finished while the call was still connected
    # the card as its screens get it, built once per lookup result (``notifier.card_view``)
    card_view: tuple[CardLookup, dict[str, Any]] | None = field(default=None, repr=False)
