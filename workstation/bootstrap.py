"""The one wiring point: builds every adapter from settings. The app, the CLI, the demo and the tests
call ``bootstrap()``, passing overrides where a test needs them. Nothing connects at import time.

Features plug in through ``FEATURE_MODULES``: each exposes ``install(container)`` which registers its
services in ``container.services``, its card sections in ``container.card_sections`` and its background
jobs in ``container.background``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from billing_adapter.ports import BillingSource
from telephony.ports import Telephony
from workstation.bus import Bus, make_bus
from workstation.db import Database
from workstation.settings import Settings, load_settings

log = logging.getLogger(__name__)

FEATURE_MODULES = [
    "workstation.records.wiring",
    "workstation.tickets.wiring",
    "workstation.campaigns.wiring",
    "workstation.kpis.wiring",
    "workstation.callbacks.wiring",
]

# async (subscriber_id, user) -> JSON-able section shown on the card (previous requests, tickets, offers…)
CardSection = Callable[[str, Any], Awaitable[Any]]


@dataclass
class Container:
    settings: Settings
    db: Database
    bus: Bus
    billing: BillingSource
    telephony: Telephony | None
    services: dict[str, Any] = field(default_factory=dict)
    card_sections: dict[str, CardSection] = field(default_factory=dict)
    # coroutine functions started with the app (schedulers, consumers); each gets the container
    background: list[Callable[[Container], Awaitable[None]]] = field(default_factory=list)
    # callbacks run at shutdown (closing pools…)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def service(self, name: str) -> Any:
        return self.services[name]


def _scrub_billing_identifiers(settings: Settings) -> None:
    """The scrubber learns this billing's account and contract number formats from its mapping."""
    from anonymizer.pii_accounts import set_identifier_formats
    from billing_adapter.mapping import load_mapping

    set_identifier_formats(load_mapping(settings.billing_mapping).identifier_formats)


def bootstrap(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    bus: Bus | None = None,
    billing: BillingSource | None = None,
    telephony: Telephony | None | bool = True,
    features: list[str] | None = None,
    **setting_overrides: Any,
) -> Container:
    """Build the container. ``telephony=False`` runs without a PBX (tests that inject events)."""
    settings = settings or load_settings(**setting_overrides)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = db or Database(settings.resolved_database_url())
    bus = bus or make_bus(settings.bus_url, prefix=settings.redis_prefix)
    if billing is None:
        from billing_adapter.factory import make_billing

        billing = make_billing(settings)
    _scrub_billing_identifiers(settings)
    tel: Telephony | None
    if telephony is True:
        from telephony.factory import make_telephony

        tel = make_telephony(settings)
    elif telephony is False or telephony is None:
        tel = None
    else:
        tel = telephony
    container = Container(settings=settings, db=db, bus=bus, billing=billing, telephony=tel)

    from workstation.calls.service import CallService
    from workstation.card_reads import OffCallReads
    from workstation.hub import Hub
    from workstation.signin import SignInGuard

    container.services["hub"] = Hub(bus, queue_size=settings.ws_queue_size)
    container.services["signin"] = SignInGuard()
    container.services["card_reads"] = OffCallReads()
    container.services["calls"] = CallService(container)

    for name in FEATURE_MODULES if features is None else features:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                log.debug("feature %s not present", name)
                continue
            raise
        module.install(container)
    return container
