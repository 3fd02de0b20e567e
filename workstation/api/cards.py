"""The subscriber card: lookup, search, drill-down (charges, payments, previous calls). Every view is audited."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from billing_adapter.ports import BillingError
from workstation.api.deps import (
    BillingDep,
    CallsDep,
    CallWriterDep,
    CardReadsDep,
    CardSectionsDep,
    DbDep,
    HubDep,
    SubscriberId,
    require_roles,
)
from workstation.calls import notifier
from workstation.calls.history import recent_calls
from workstation.calls.writer import CallWriter
from workstation.card_reads import OffCallReads, ReasonRequired, is_own_call
from workstation.container import CardSection
from workstation.errors import DomainError, NotFound, Unavailable
from workstation.models import User

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/subscribers", tags=["cards"])

CardReader = Annotated[User, Depends(require_roles("operator", "tech_support", "supervisor"))]


async def durable_audit(
    writer: CallWriter,
    user: User,
    action: str,
    subject: str | None,
    details: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """Audit through the outbox: the row is journalled before the card is sent, written to the DB before
    the answer when the DB is there, and later when it is away (see ``workstation.calls.writer``)."""
    if reason:
        from anonymizer.scrubber import scrub

        reason = scrub(reason)  # the audit says why data was read; it is not a second copy of it
    writer.audit(user.id, action, subject, details or {}, reason=reason)
    await writer.flush()


async def sections_for(sections: dict[str, CardSection], subscriber_id: str, user: User) -> dict[str, Any]:
    """Each feature's section of the card (previous requests, tickets, offers), each bounded in time."""

    async def one(name: str, fn: CardSection) -> tuple[str, Any]:
        try:
            return name, await asyncio.wait_for(fn(subscriber_id, user), timeout=2.0)
        except Exception as exc:
            log.warning("card section %s failed: %s", name, type(exc).__name__)
            return name, {"error": "unavailable"}

    pairs = await asyncio.gather(*(one(n, f) for n, f in sections.items()))
    return dict(pairs)


@router.get("/search")
async def search(
    billing: BillingDep,
    writer: CallWriterDep,
    user: CardReader,
    q: Annotated[str, Query(min_length=1, max_length=100)],
) -> dict[str, Any]:
    text = q.strip()
    if len(text) < 2:
        raise DomainError("type at least 2 characters", error_id="query_too_short")
    try:
        matches = await billing.search(text, limit=20)
    except BillingError as exc:
        raise Unavailable("billing is unavailable, try again shortly", error_id=exc.error_id) from None
    await durable_audit(
        writer,
        user,
        "card.search",
        None,
        {"results": len(matches), "shown": [str(m.subscriber_id) for m in matches]},
    )
    return {"matches": [notifier.match_payload(m) for m in matches]}


@router.get("/{subscriber_id}/card")
async def card(
    subscriber_id: SubscriberId,
    billing: BillingDep,
    writer: CallWriterDep,
    card_sections: CardSectionsDep,
    calls: CallsDep,
    db: DbDep,
    hub: HubDep,
    reads: CardReadsDep,
    user: CardReader,
    call_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    reason: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """The full card. An operator opening it outside their own call names a reason, is limited per
    window, and supervisors are told of unusual reading (``workstation.card_reads``)."""
    details: dict[str, Any] = {"call_id": call_id} if call_id else {}
    if user.role == "operator" and not await asyncio.to_thread(is_own_call, calls, db, call_id, user.id):
        if not reason or len(reason.strip()) < 3:
            raise ReasonRequired("say why you open this card outside a call", details={"min_length": 3})
        count, alert = reads.note(user.id)
        details.update(outside_call=True, reads_in_window=count)
        if alert:
            await _alert_supervisors(writer, hub, reads, user, count)
    lookup = await billing.get_card(subscriber_id)
    if lookup.state == "unknown":
        raise NotFound("no such subscriber", error_id="subscriber_not_found")
    await durable_audit(writer, user, "card.view", subscriber_id, details, reason=reason)
    return {
        "card": notifier.card_payload(lookup),
        "sections": await sections_for(card_sections, subscriber_id, user),
    }


async def _alert_supervisors(
    writer: CallWriter, hub: Any, reads: OffCallReads, user: User, count: int
) -> None:
    """Unusual reading: every supervisor's screen shows it; the audit log keeps it."""
    window = int(reads.window_s // 60)
    await durable_audit(writer, user, "card.read_alert", None, {"reads": count, "window_min": window})
    await hub.send_to_role(
        "supervisor",
        {
            "type": "audit.alert",
            "kind": "card_reads",
            "user_id": user.id,
            "reads": count,
            "window_min": window,
        },
    )


@router.get("/{subscriber_id}/sections")
async def sections(
    subscriber_id: SubscriberId, writer: CallWriterDep, card_sections: CardSectionsDep, user: CardReader
) -> dict[str, Any]:
    await durable_audit(writer, user, "card.sections", subscriber_id)
    return await sections_for(card_sections, subscriber_id, user)


@router.get("/{subscriber_id}/charges")
async def charges(
    subscriber_id: SubscriberId,
    billing: BillingDep,
    writer: CallWriterDep,
    user: CardReader,
    months: Annotated[int, Query(ge=1, le=24)] = 6,
) -> dict[str, Any]:
    try:
        rows = await billing.charges(subscriber_id, months=months)
    except BillingError as exc:
        raise Unavailable(
            "billing is unavailable: charges cannot be shown now", error_id=exc.error_id
        ) from None
    await durable_audit(writer, user, "card.charges", subscriber_id)
    return {"months": [asdict(m) for m in rows]}


@router.get("/{subscriber_id}/payments")
async def payments(
    subscriber_id: SubscriberId,
    billing: BillingDep,
    writer: CallWriterDep,
    user: CardReader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    try:
        rows = await billing.payments(subscriber_id, limit=limit)
    except BillingError as exc:
        raise Unavailable(
            "billing is unavailable: payments cannot be shown now", error_id=exc.error_id
        ) from None
    await durable_audit(writer, user, "card.payments", subscriber_id)
    return {"payments": [asdict(p) for p in rows]}


@router.get("/{subscriber_id}/calls")
async def calls(
    subscriber_id: SubscriberId, db: DbDep, writer: CallWriterDep, user: CardReader
) -> dict[str, Any]:
    await durable_audit(writer, user, "card.calls", subscriber_id)
    return {"calls": await asyncio.to_thread(recent_calls, db, subscriber_id)}
