"""Campaigns: a marketing manager's offer for some segments of an export, re-linked to subscribers inside
the workstation, shown on those subscribers' cards, with the operator's outcome and the conversion.

Re-linking recomputes the pseudonyms of the workstation's own subscriber set (billing batches) with the
export's derived key; the matched billing ids are stored only in ``campaign_targets``. Everyone outside
the workstation DB — the analyst, the marketing page — sees counts only. Every re-link is audited.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import delete, func, select

from anonymizer.relink import parse_segment, relink, segment_pseudonyms
from workstation import audit
from workstation.db import Database, utcnow
from workstation.errors import Conflict, DomainError, Forbidden, NotFound
from workstation.segments.service import ExportService

from .models import OUTCOMES, Campaign, CampaignTarget

LAUNCHERS = ("marketing", "admin")  # README: admin can do everything a role can
OFFER_VIEWERS = ("operator", "supervisor", "admin")
MAX_OFFER_CHARS = 2000


class CampaignService:
    def __init__(self, db: Database, exports: ExportService, chunk_size: int = 50_000):
        self.db = db
        self.exports = exports
        self.chunk_size = chunk_size

    def _subscriber_ids(self) -> Iterator[list[object]]:
        for frame in self.exports.source().subscribers(self.chunk_size):
            yield frame["subscriber_id"].tolist()

    # ------------------------------------------------------------------ marketing
    def launch(
        self,
        user: Any,
        *,
        name: str,
        offer_text: str,
        export_id: str,
        segments: list[str],
        starts_on: date,
        ends_on: date,
        reason: str = "",
    ) -> dict[str, Any]:
        """Create a campaign and re-link its segments to subscribers. Marketing (and admin) may."""
        if getattr(user, "role", None) not in LAUNCHERS:
            raise Forbidden(
                "only a marketing manager can launch a campaign",
                error_id="marketing_only",
                details={"role": user.role},
            )
        name, offer_text = (name or "").strip(), (offer_text or "").strip()
        if not name or not offer_text:
            raise DomainError("a campaign needs a name and an offer text", error_id="campaign_incomplete")
        if len(offer_text) > MAX_OFFER_CHARS:
            raise DomainError(
                f"the offer text is longer than {MAX_OFFER_CHARS} characters", error_id="offer_too_long"
            )
        if not segments:
            raise DomainError("choose at least one segment", error_id="campaign_no_segments")
        for spec in segments:
            try:
                parse_segment(spec)
            except ValueError as exc:
                raise DomainError(str(exc), error_id="campaign_bad_segment") from None
        if ends_on < starts_on:
            raise DomainError("the campaign ends before it starts", error_id="campaign_bad_period")
        master = self.exports.master()
        bundle = self.exports.bundle_path(export_id)
        self.exports.check_key_of(export_id)
        targets = segment_pseudonyms(bundle, segments)
        ids = relink(master, export_id, targets, self._subscriber_ids())
        with self.db.session() as s:
            campaign = Campaign(
                name=name[:200],
                offer_text=offer_text,
                export_id=export_id,
                segments=list(segments),
                starts_on=starts_on,
                ends_on=ends_on,
                state="active",
                targets_count=len(ids),
                created_by=user.id,
            )
            s.add(campaign)
            s.flush()
            s.add_all(CampaignTarget(campaign_id=campaign.id, subscriber_id=str(i)) for i in ids)
            cid = campaign.id
        audit.record(
            self.db,
            user_id=user.id,
            action="campaign.relink",
            subject=f"campaign:{cid}",
            reason=reason or f"campaign {name[:100]}",
            details={
                "export_id": export_id,
                "segments": list(segments),
                "pseudonyms_in_segments": len(targets),
                "subscribers_linked": len(ids),
            },
        )
        return self.get(cid)

    def finish(self, user: Any, campaign_id: int) -> dict[str, Any]:
        if getattr(user, "role", None) not in LAUNCHERS:
            raise Forbidden("only a marketing manager can stop a campaign", error_id="marketing_only")
        with self.db.session() as s:
            c = s.get(Campaign, campaign_id)
            if c is None:
                raise NotFound("no such campaign", error_id="campaign_not_found")
            c.state = "finished"
        return self.get(campaign_id)

    # ------------------------------------------------------------------ reading (counts only)
    def get(self, campaign_id: int) -> dict[str, Any]:
        with self.db.session() as s:
            c = s.get(Campaign, campaign_id)
            if c is None:
                raise NotFound("no such campaign", error_id="campaign_not_found")
            return self._summary(s, c)

    def list_campaigns(self) -> list[dict[str, Any]]:
        with self.db.session() as s:
            return [
                self._summary(s, c) for c in s.scalars(select(Campaign).order_by(Campaign.id.desc())).all()
            ]

    @staticmethod
    def _summary(s: Any, c: Campaign) -> dict[str, Any]:
        rows = s.execute(
            select(CampaignTarget.outcome, func.count())
            .where(CampaignTarget.campaign_id == c.id)
            .group_by(CampaignTarget.outcome)
        ).all()
        counts = {str(o or "pending"): int(n) for o, n in rows}
        offered = counts.get("accepted", 0) + counts.get("declined", 0)
        return {
            "id": c.id,
            "name": c.name,
            "offer_text": c.offer_text,
            "export_id": c.export_id,
            "segments": c.segments,
            "starts_on": c.starts_on.isoformat(),
            "ends_on": c.ends_on.isoformat(),
            "state": c.state,
            "targets": c.targets_count,
            "outcomes": {k: counts.get(k, 0) for k in (*OUTCOMES, "pending")},
            "conversion": round(counts.get("accepted", 0) / offered, 4) if offered else None,
        }

    # ------------------------------------------------------------------ operator's card
    def offers_for(self, subscriber_id: str, today: date | None = None) -> list[dict[str, Any]]:
        """Active campaigns targeting this subscriber today, with the outcome recorded so far."""
        day = today or date.today()
        with self.db.session() as s:
            rows = s.execute(
                select(Campaign, CampaignTarget)
                .join(CampaignTarget, CampaignTarget.campaign_id == Campaign.id)
                .where(
                    CampaignTarget.subscriber_id == str(subscriber_id),
                    Campaign.state == "active",
                    Campaign.starts_on <= day,
                    Campaign.ends_on >= day,
                )
                .order_by(Campaign.id)
            ).all()
            return [
                {
                    "campaign_id": c.id,
                    "name": c.name,
                    "offer_text": c.offer_text,
                    "ends_on": c.ends_on.isoformat(),
                    "outcome": t.outcome,
                }
                for c, t in rows
            ]

    async def card_section(self, subscriber_id: str, user: Any) -> list[dict[str, Any]]:
        """``container.card_sections["offers"]``."""
        if getattr(user, "role", None) not in OFFER_VIEWERS:
            return []
        return await asyncio.to_thread(self.offers_for, subscriber_id)

    def record_outcome(self, user: Any, campaign_id: int, subscriber_id: str, outcome: str) -> dict[str, Any]:
        """The operator's answer for an offer on screen: accepted / declined / not_offered."""
        if outcome not in OUTCOMES:
            raise DomainError(f"outcome must be one of {', '.join(OUTCOMES)}", error_id="offer_bad_outcome")
        if getattr(user, "role", None) not in OFFER_VIEWERS:
            raise Forbidden("only an operator records an offer's outcome", error_id="operator_only")
        with self.db.session() as s:
            t = s.scalar(
                select(CampaignTarget).where(
                    CampaignTarget.campaign_id == campaign_id,
                    CampaignTarget.subscriber_id == str(subscriber_id),
                )
            )
            if t is None:
                raise NotFound("this subscriber is not in that campaign", error_id="offer_not_targeted")
            c = s.get(Campaign, campaign_id)
            if c is None or c.state != "active":
                raise Conflict("the campaign is not active", error_id="campaign_not_active")
            t.outcome, t.operator_id, t.outcome_at = outcome, user.id, utcnow()
        return {"campaign_id": campaign_id, "outcome": outcome}

    def delete_targets(self, campaign_id: int) -> None:
        with self.db.session() as s:
            s.execute(delete(CampaignTarget).where(CampaignTarget.campaign_id == campaign_id))
