"""Adapters built from settings: the one Redis client, the billing front, the telephony adapter.

The lower packages take plain values (URLs, timeouts, a Redis client); only this module reads ``Settings``
for them. Rules that span several settings are checked earlier, by the settings model itself.

* ``billing_url``: ``memory://`` (empty fake), ``sqlite:///path`` (embedded demo, DB-API) or
  ``odbc://<connection string>`` (production; password from ``WORKSTATION_BILLING_PASSWORD``);
  ``billing_mapping``: a mapping file or the name of a shipped one (the demo mapping when unset).
* ``cache_url``: ``memory://`` (in-process) or ``redis://…`` (keys and the change channel under
  ``redis_prefix``).
* ``ami_url``: ``ami://user@host:port`` (secret in ``WORKSTATION_AMI_SECRET``), ``sim://`` (the AMI
  simulator in-process, reached over TCP by the real client) or ``none://``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis

from billing_adapter.cache import CachedBilling
from billing_adapter.dbapi import DbApiBilling
from billing_adapter.mapping import load_mapping
from billing_adapter.ports import BillingFront, BillingSource
from billing_adapter.resilience import CircuitBreaker
from billing_adapter.stores import CacheStore, MemoryStore, RedisStore
from telephony.ports import Telephony
from workstation.settings import Settings

# the card's path reads the cache through this client: a Redis that does not answer within 0.3 s is
# treated as down (the pop falls back to billing) instead of eating the 50 ms budget many times over
REDIS_TIMEOUT_S = 0.3


def make_redis(settings: Settings) -> aioredis.Redis | None:
    """The process's one Redis client (a connection pool) for the bus, the cache, the change listener
    and the leader locks; None when nothing is configured on Redis. Nothing connects here."""
    url = settings.redis_url()
    if url is None:
        return None
    # driver_info None: no client-info handshake (and no package-metadata read) per connection
    return aioredis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S, driver_info=None
    )


def make_billing_source(settings: Settings, **kwargs: Any) -> DbApiBilling:
    """The uncached DB-API source named by ``settings.billing_url``."""
    url = settings.resolved_billing_url()
    mapping = load_mapping(settings.billing_mapping)
    backend: Any
    if url.startswith("sqlite:///"):
        from billing_adapter.sqlite import SqliteBackend

        backend = SqliteBackend(Path(url[len("sqlite:///") :]), settings.billing_timeout_s)
    else:  # odbc:// (the settings model admits nothing else here)
        from billing_adapter.odbc import OdbcBackend, odbc_connection_string

        pwd = settings.billing_password.get_secret_value() if settings.billing_password else None
        backend = OdbcBackend(odbc_connection_string(url, pwd), settings.billing_timeout_s)
    return DbApiBilling(
        backend, mapping, pool_size=settings.billing_pool_size, timeout_s=settings.billing_timeout_s, **kwargs
    )


def make_cached(
    source: BillingSource, settings: Settings, redis: aioredis.Redis | None = None, **kwargs: Any
) -> CachedBilling:
    """The cached, resilient front over ``source``; the cache is in Redis when ``cache_url`` says so."""
    on_redis = settings.cache_url.startswith(("redis://", "rediss://"))
    if on_redis and redis is None:
        redis = make_redis(settings)
    client = redis if on_redis else None
    store: CacheStore = RedisStore(client, settings.redis_prefix) if client is not None else MemoryStore()
    kwargs.setdefault("breaker", CircuitBreaker(failure_threshold=3, reset_after_s=5.0))
    kwargs.setdefault("profile_ttl_s", settings.billing_profile_ttl_s)
    kwargs.setdefault("balance_ttl_s", settings.billing_balance_ttl_s)
    kwargs.setdefault("unknown_ttl_s", settings.billing_unknown_ttl_s)
    kwargs.setdefault("answer_within_s", settings.billing_answer_within_s)
    return CachedBilling(source, store, redis=client, prefix=settings.redis_prefix, **kwargs)


def make_billing(settings: Settings, redis: aioredis.Redis | None = None) -> BillingFront:
    """The billing for the container: the cached front over the configured source (or the memory fake).

    Nothing connects here: the first lookup opens the first billing connection.
    """
    if settings.billing_url.startswith("memory://"):
        from billing_adapter.memory import MemoryBilling

        return MemoryBilling()
    return make_cached(make_billing_source(settings), settings, redis)


def configure_scrubber(settings: Settings) -> None:
    """The PII scrubber learns this billing's account and contract number formats from its mapping."""
    from anonymizer.pii_accounts import set_identifier_formats

    set_identifier_formats(load_mapping(settings.billing_mapping).identifier_formats)


def _contexts(value: str | Sequence[str]) -> tuple[str, ...]:
    """``agents,operators`` (or a list) → the dialplan contexts whose Local channels are operators."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(c.strip() for c in items if c.strip()) or ("agents",)


def make_telephony(settings: Settings) -> Telephony | None:
    """The adapter ``ami_url`` asks for; None for ``none://`` (or an empty URL). The settings model has
    already refused a URL without user or host, and an ``ami://`` without a secret."""
    url = settings.ami_url.strip()
    if url in ("", "none://"):
        return None
    if url.startswith("sim://"):
        from telephony.simulated import SimulatedTelephony

        return SimulatedTelephony(calls_per_min=settings.sim_calls_per_min)
    from telephony.ami import AmiTelephony

    parts = urlsplit(url)
    assert parts.hostname
    assert parts.username
    assert settings.ami_secret is not None
    return AmiTelephony(
        parts.hostname,
        parts.port or 5038,
        parts.username,
        settings.ami_secret.get_secret_value(),
        originate_context=settings.ami_originate_context or "default",
        channel_template=settings.ami_channel_template or "PJSIP/{extension}",
        agent_contexts=_contexts(settings.ami_agent_contexts or "agents"),
    )
