"""Builds the billing the workstation uses from settings: the cached, resilient front over the real source.

``billing_url``: ``memory://`` (empty fake), ``sqlite:///path`` (embedded demo, DB-API) or
``odbc://<connection string>`` (production; password from ``WORKSTATION_BILLING_PASSWORD``).
``billing_mapping``: a mapping file (or the name of a shipped one, e.g. ``legacy_kopecks``); the demo
mapping when unset. A broken mapping stops start-up with one line (``MappingError``).
``cache_url``: ``memory://`` (in-process) or ``redis://…`` (keys and the change channel under
``redis_prefix``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from billing_adapter.cache import CachedBilling
from billing_adapter.dbapi import DbApiBilling
from billing_adapter.mapping import load_mapping
from billing_adapter.ports import BillingError, BillingFront
from billing_adapter.resilience import CircuitBreaker
from billing_adapter.stores import CacheStore, MemoryStore, RedisStore
from workstation.settings import Settings


def make_source(settings: Settings, **kwargs: Any) -> DbApiBilling:
    """The uncached DB-API source named by ``settings.billing_url``."""
    url = settings.resolved_billing_url()
    mapping = load_mapping(settings.billing_mapping)
    if url.startswith("sqlite:///"):
        from billing_adapter.sqlite import SqliteBackend

        backend: Any = SqliteBackend(Path(url[len("sqlite:///") :]), settings.billing_timeout_s)
    elif url.startswith("odbc://"):
        from billing_adapter.odbc import OdbcBackend, odbc_connection_string

        pwd = settings.billing_password.get_secret_value() if settings.billing_password else None
        backend = OdbcBackend(odbc_connection_string(url, pwd), settings.billing_timeout_s)
    else:
        raise BillingError(
            "bad setting WORKSTATION_BILLING_URL: use sqlite:///path, odbc://<connection string> or memory://",
            error_id="billing_settings",
        )
    return DbApiBilling(
        backend, mapping, pool_size=settings.billing_pool_size, timeout_s=settings.billing_timeout_s, **kwargs
    )


def make_cached(source: Any, settings: Settings, **kwargs: Any) -> CachedBilling:
    """The cached, resilient front over ``source`` with the cache named by ``settings.cache_url``."""
    redis_url = settings.cache_url if settings.cache_url.startswith(("redis://", "rediss://")) else None
    store: CacheStore = RedisStore(redis_url, settings.redis_prefix) if redis_url else MemoryStore()
    kwargs.setdefault("breaker", CircuitBreaker(failure_threshold=3, reset_after_s=5.0))
    kwargs.setdefault("profile_ttl_s", settings.billing_profile_ttl_s)
    kwargs.setdefault("balance_ttl_s", settings.billing_balance_ttl_s)
    kwargs.setdefault("unknown_ttl_s", settings.billing_unknown_ttl_s)
    kwargs.setdefault("answer_within_s", settings.billing_answer_within_s)
    return CachedBilling(source, store, redis_url=redis_url, prefix=settings.redis_prefix, **kwargs)


def make_billing(settings: Settings) -> BillingFront:
    """The billing for the container: both a ``BillingSource`` and a ``CardLookupService``.

    Nothing connects here: the first lookup opens the first billing connection.
    """
    if settings.billing_url.startswith("memory://"):
        from billing_adapter.memory import MemoryBilling

        return MemoryBilling()
    return make_cached(make_source(settings), settings)
