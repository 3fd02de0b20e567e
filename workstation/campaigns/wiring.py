"""Wiring of exports and campaigns: the ``exports`` and ``campaigns`` services and the ``offers`` card section."""

from __future__ import annotations

from typing import Any

from .exports import ExportService
from .service import CampaignService


def install(container: Any) -> None:
    """Register ``exports`` / ``campaigns`` services and ``container.card_sections["offers"]``.

    A test may put a ``segments_source`` factory in ``container.services`` first to read billing
    batches from elsewhere than ``container.billing``."""
    exports = ExportService(
        container.db,
        container.settings,
        billing=container.billing,
        source_factory=container.services.get("segments_source"),
    )
    campaigns = CampaignService(container.db, exports)
    container.services.update(exports=exports, campaigns=campaigns)
    container.card_sections["offers"] = campaigns.card_section
    from sqlalchemy import inspect

    if inspect(container.db.engine).has_table("segment_exports"):
        exports.mark_interrupted()
