"""The one place that builds what live calls send to browsers, and says who receives it.

``CallNotifier`` owns both the shape of each message and its audience (an operator's tabs, the
supervisors); the hub stamps the protocol version. ``card_payload`` / ``call_payload`` are the pieces the
REST routes reuse (the card view, the supervisor's floor).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from billing_adapter.formats import display_number
from billing_adapter.models import CardLookup
from workstation.calls.live import LiveCall

if TYPE_CHECKING:
    from workstation.hub import Hub

Message = dict[str, Any]
SCREEN_ROLES = ("operator", "tech_support", "supervisor", "admin")


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


def card_view(call: LiveCall, lookup: CardLookup | None) -> dict[str, Any]:
    """The card of a live call, built once per lookup result: its pop, its answer and every tab that
    reconnects send the same (read-only) payload; the first build is done when billing answers, usually
    while the caller is still in the IVR, so the ring itself only encodes it."""
    if lookup is None:
        return card_payload(None)
    view = call.card_view
    if view is None or view[0] is not lookup:
        view = call.card_view = (lookup, card_payload(lookup))
    return view[1]


def call_payload(call: LiveCall) -> dict[str, Any]:
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


def message(type_: str, call: LiveCall, **extra: Any) -> Message:
    msg: Message = {"type": type_, "call": call_payload(call)}
    msg.update(extra)
    return msg


class CallNotifier:
    """Every message of the live-call feature, each sent to the screens that must see it."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    # -- the operator's own tabs -----------------------------------------------------------------
    async def offered(self, uid: int, call: LiveCall, lookup: CardLookup | None) -> None:
        """The phone rings: the call and its card pop."""
        await self.hub.send_to_user(uid, message("call.offered", call, card=card_view(call, lookup)))

    async def withdrawn(self, uid: int, call: LiveCall, reason: str) -> None:
        """The ring stopped (answered elsewhere, caller left, no answer)."""
        await self.hub.send_to_user(uid, message("call.withdrawn", call, reason=reason))

    async def answered(self, uid: int, call: LiveCall, lookup: CardLookup | None) -> None:
        await self.hub.send_to_user(uid, message("call.answered", call, card=card_view(call, lookup)))

    async def ended(self, uid: int, call: LiveCall, hangup_by: str | None) -> None:
        await self.hub.send_to_user(uid, message("call.ended", call, hangup_by=hangup_by))

    async def cleared(self, uid: int, call_id: str) -> None:
        """After-call work is over: the call leaves the operator's screen."""
        await self.hub.send_to_user(uid, {"type": "call.cleared", "call": {"id": call_id}})

    @staticmethod
    def state(call: LiveCall, lookup: CardLookup | None) -> Message:
        """What a (re)connected tab shows at once: the live call and its card (sent by the websocket)."""
        return message("call.state", call, card=card_view(call, lookup))

    # -- supervisors and every screen ------------------------------------------------------------
    async def telephony_link(self, up: bool) -> None:
        await self.hub.send_to_role("supervisor", {"type": "telephony.link", "up": up})

    async def floor_changed(self, uid: int, presence: str) -> None:
        """An operator's presence changed (also read by tickets and the figures, on the bus)."""
        await self.hub.send_to_role(
            "supervisor", {"type": "floor.changed", "user_id": uid, "presence": presence, "at": time.time()}
        )

    async def saving_state(self, delayed: bool) -> None:
        """History and audit are kept locally (the DB is away), or caught up again."""
        msg = {"type": "saving.state", "delayed": delayed, "status": "saving_delayed" if delayed else "ok"}
        for role in SCREEN_ROLES:
            await self.hub.send_to_role(role, dict(msg))
