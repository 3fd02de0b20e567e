"""The campaigns feature: campaigns over exported segments and the ``offers`` card section
(``/api/campaigns`` routes). Needs the segments feature, built before it."""

from __future__ import annotations

import argparse

from workstation.api.campaigns import router
from workstation.campaigns.service import CampaignService
from workstation.container import CampaignsFeature, Container, installed
from workstation.segments import feature as segments

NAME = "campaigns"
__all__ = ["NAME", "build", "register_commands", "router", "seed"]


def build(container: Container) -> None:
    exports = installed(container.segments, segments.NAME).exports
    campaigns = CampaignService(container.db, exports)
    container.campaigns = CampaignsFeature(campaigns=campaigns)
    container.card_sections["offers"] = campaigns.card_section


def register_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Campaigns have no subcommands of their own."""


def seed(container: Container) -> None:
    """Campaigns start empty: nothing to seed."""
