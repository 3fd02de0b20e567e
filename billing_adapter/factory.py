"""Builds the billing the workstation uses from settings: the cached, resilient front over the real source.

``billing_url``: ``memory://`` (empty fake), ``sqlite:///path`` (embedded demo, DB-API) or
``odbc://<connection string>`` (production). The returned object is both a ``BillingSource`` and a
``CardLookupService``.
"""

from __future__ import annotations

import logging

from billing_adapter.memory import MemoryBilling
from workstation.settings import Settings

log = logging.getLogger(__name__)


def make_billing(settings: Settings) -> MemoryBilling:
    """First cut: the in-memory fake until the DB-API source lands (replaced in the next commits)."""
    log.warning("billing: using the in-memory fake (DB-API source not wired yet)")
    return MemoryBilling()
