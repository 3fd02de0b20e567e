"""The types of the wiring: the container ``workstation.bootstrap.bootstrap()`` builds and what a feature is.

The container holds the adapters (settings, DB, bus, billing, telephony, the leader lock), the core services
(the websocket hub, live calls) and one typed dataclass per feature. A feature that is not installed is
``None``; routes reach features only through the ``Annotated`` aliases in ``workstation.api.deps``.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from billing_adapter.ports import BillingFront
from telephony.ports import Telephony
from workstation.bus import Bus
from workstation.card_reads import OffCallReads
from workstation.db import Database
from workstation.errors import DomainError
from workstation.leader import LeaderLock
from workstation.settings import Settings

if TYPE_CHECKING:
    import redis.asyncio as aioredis
    from fastapi import APIRouter

    from workstation.callbacks.service import CallbackService
    from workstation.calls.service import CallService
    from workstation.campaigns.service import CampaignService
    from workstation.floor_presence import FloorPresence
    from workstation.hub import Hub
    from workstation.kb.service import KnowledgeBase
    from workstation.kpis.service import KpiService
    from workstation.models import User
    from workstation.records.emerging import EmergingService
    from workstation.records.service import RecordService
    from workstation.records.suggest import ClassifierService
    from workstation.records.topics import TopicService
    from workstation.segments.service import ExportService
    from workstation.signin import SignInGuard
    from workstation.tickets.config_store import ConfigStore
    from workstation.tickets.service import TicketService

# async (subscriber_id, user) -> JSON-able section shown on the card (previous requests, tickets, offers…)
CardSection = Callable[[str, "User"], Awaitable[Any]]
# a coroutine started with the app (schedulers, consumers) and cancelled at shutdown
BackgroundJob = Callable[[], Awaitable[None]]
Closer = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class RecordsFeature:
    """Request records: the topic tree, the records, topic suggestions, emerging topics."""

    topics: TopicService
    records: RecordService
    classifier: ClassifierService
    emerging: EmergingService


@dataclass(frozen=True)
class TicketsFeature:
    """Escalation to technical support: tickets and their routing / SLA configuration."""

    tickets: TicketService
    config: ConfigStore


@dataclass(frozen=True)
class KnowledgeBaseFeature:
    """Cheat sheets and call scripts."""

    kb: KnowledgeBase


@dataclass(frozen=True)
class SegmentsFeature:
    """Anonymised segmentation exports for analysts."""

    exports: ExportService


@dataclass(frozen=True)
class CampaignsFeature:
    """Marketing campaigns over exported segments; offers on the operator's card."""

    campaigns: CampaignService


@dataclass(frozen=True)
class KpisFeature:
    """Contact-center figures: live board, reports, an operator's own day."""

    kpis: KpiService


@dataclass(frozen=True)
class CallbacksFeature:
    """Call-back tasks the operators promised, with reminders."""

    callbacks: CallbackService


@dataclass
class Container:
    settings: Settings
    db: Database
    redis: aioredis.Redis | None  # the one Redis client of the process (None: all in-process)
    bus: Bus
    billing: BillingFront
    telephony: Telephony | None
    leader: LeaderLock
    hub: Hub
    signin: SignInGuard
    calls: CallService
    # who has a tab open and in which state, across nodes (the supervisor's floor)
    floor: FloorPresence
    # operators' card reads outside a call (reason, limit, alert): workstation.card_reads
    card_reads: OffCallReads = field(default_factory=OffCallReads)
    records: RecordsFeature | None = None
    tickets: TicketsFeature | None = None
    knowledge_base: KnowledgeBaseFeature | None = None
    segments: SegmentsFeature | None = None
    campaigns: CampaignsFeature | None = None
    kpis: KpisFeature | None = None
    callbacks: CallbacksFeature | None = None
    # the installed features, in build order (their routers are mounted, their seed data loaded)
    features: tuple[Feature, ...] = ()
    card_sections: dict[str, CardSection] = field(default_factory=dict)
    background: list[BackgroundJob] = field(default_factory=list)
    # run at shutdown, last registered first (pools, listeners, threads)
    closers: list[Closer] = field(default_factory=list)
    # the billing was built from the settings (not given in code): a worker process can open it again
    billing_from_settings: bool = False

    def lock(self, name: str) -> LeaderLock:
        """A leader lock of its own for a job that must run on one node only."""
        return LeaderLock(self.redis, self.settings.lock_key(name))


class Feature(Protocol):
    """A feature module (``workstation/<feature>/feature.py``): builds itself into the container and brings
    its HTTP routes, its CLI subcommands and its first-run data."""

    NAME: str
    router: APIRouter

    def build(self, container: Container) -> None:
        """Set the feature's field on ``container``; add card sections, background jobs, closers."""

    def register_commands(self, sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None: ...

    def seed(self, container: Container) -> None:
        """Idempotent first-run / demo content."""


class FeatureNotInstalled(DomainError):
    status = 404
    error_id = "feature_not_installed"


T = TypeVar("T")


def installed(feature: T | None, name: str) -> T:
    """The feature's dataclass; a clear error when this build was wired without it."""
    if feature is None:
        raise FeatureNotInstalled(f"the {name} feature is not installed", details={"feature": name})
    return feature
