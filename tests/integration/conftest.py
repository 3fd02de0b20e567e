"""Integration tier: real PostgreSQL, Redis, ODBC drivers, the AMI simulator over TCP; every test here is marked ``integration``.

Select a tier with ``-m``: ``pytest -m unit`` (seconds), ``pytest -m "not e2e"``, ``pytest -m e2e``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from workstation.adapters import make_redis
from workstation.bus.redis_bus import RedisBus
from workstation.hub import Hub
from workstation.settings import Settings

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
async def two_nodes(redis_url: str, redis_prefix: str) -> AsyncIterator[tuple[Hub, Hub]]:
    """Two server nodes' hubs, each on its own Redis client and bus (``hub.bus``), both subscribed."""
    settings = Settings(bus_url=redis_url, redis_prefix=redis_prefix)
    clients = [make_redis(settings), make_redis(settings)]
    buses = [RedisBus(c, prefix=redis_prefix) for c in clients if c is not None]
    hubs = [Hub(bus, queue_size=1000) for bus in buses]
    for bus in buses:
        await bus.start()
    try:
        yield hubs[0], hubs[1]
    finally:
        for bus in buses:
            await bus.stop()
        for c in clients:
            if c is not None:
                await c.aclose()
