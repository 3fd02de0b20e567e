"""The one wiring point: builds every adapter from settings and every service from exactly what it uses.

The app, the CLI, the demo and the tests call ``bootstrap()``, passing overrides where a test needs them.
Nothing connects at import time. The features are ``all_features()``, imported on first use: each module builds its
dataclass into the container and brings its routes, commands and seed data (``workstation.container.Feature``).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any, cast

from billing_adapter.ports import BillingFront
from telephony.ports import Telephony
from workstation.adapters import configure_scrubber, make_billing, make_redis, make_telephony
from workstation.bus import Bus, make_bus
from workstation.bus.ports import new_node_id
from workstation.calls.link_health import LinkHealth
from workstation.calls.service import CallService
from workstation.calls.writer import journal_path
from workstation.container import Container, Feature
from workstation.db import Database
from workstation.floor_presence import FloorPresence
from workstation.hub import Hub
from workstation.leader import LeaderLock
from workstation.settings import Settings, load_settings
from workstation.signin import SignInGuard

__all__ = ["Container", "all_features", "bootstrap"]

# build order: a feature comes after those it uses (campaigns use segments' exports)
FEATURE_PACKAGES = ("records", "tickets", "kb", "segments", "campaigns", "kpis", "callbacks")


def all_features() -> tuple[Feature, ...]:
    """Every feature module, in build order. Imported on first use: a build of the screen-pop core alone
    (``features=()``) loads none of them, nor what they load (the classifier's scikit-learn, pandas)."""
    return tuple(
        cast(Feature, importlib.import_module(f"workstation.{name}.feature")) for name in FEATURE_PACKAGES
    )


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
    billing: BillingFront | None = None,
    telephony: Telephony | bool | None = True,
    features: Sequence[Feature] | None = None,
    **setting_overrides: Any,
) -> Container:
    """Build the container. ``telephony=False`` runs without a PBX (tests that inject events);
    ``features`` picks a subset of ``all_features()`` (the screen-pop core alone: ``features=()``)."""
    settings = settings or load_settings(**setting_overrides)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    redis = make_redis(settings)
    db = db or Database(settings.resolved_database_url())
    # one id for this process on the bus, the floor and the link health (a given bus keeps its own)
    node = getattr(bus, "node", None) or new_node_id()
    bus = bus or make_bus(settings.bus_url, redis, prefix=settings.redis_prefix, node=node)
    billing_from_settings = billing is None
    billing = billing or make_billing(settings, redis)
    configure_scrubber(settings)
    tel: Telephony | None
    if telephony is True:
        tel = make_telephony(settings)
    elif telephony is False or telephony is None:
        tel = None
    else:
        tel = telephony
    hub = Hub(bus, queue_size=settings.ws_queue_size)
    container = Container(
        settings=settings,
        db=db,
        redis=redis,
        bus=bus,
        billing=billing,
        telephony=tel,
        leader=LeaderLock(redis, settings.lock_key("ami-consumer")),
        hub=hub,
        signin=SignInGuard(hash_cpu_share=settings.signin_hash_cpu_share),
        calls=CallService(
            db,
            billing,
            hub,
            tel,
            journal=journal_path(settings.data_dir),
            link_health=LinkHealth(bus, tel, node=node),
        ),
        floor=FloorPresence(hub, bus, redis, settings.redis_prefix, node=node),
        features=all_features() if features is None else tuple(features),
        billing_from_settings=billing_from_settings,
    )
    container.background.append(container.floor.run)
    if settings.writer_process:
        container.calls.writer.use_process()
    # closed last registered first: the billing front (its listener, pool, threads), then the Redis pool
    if redis is not None:
        container.closers.append(redis.aclose)
    container.closers.append(billing.close)
    if redis is not None:
        container.signin.share_through(redis, settings.redis_prefix)  # one limit for all the nodes

    async def close_signin() -> None:
        container.signin.close()

    container.closers.append(close_signin)
    for feature in container.features:
        feature.build(container)
    return container
