"""The cached front on a real Redis: JSON entries under the prefix, coalescing, TTLs, the change channel."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from billing_adapter.cache import CachedBilling
from billing_adapter.memory import make_card
from billing_adapter.resilience import CircuitBreaker
from billing_adapter.stores import RedisStore
from tests.integration import test_billing_odbc as fx
from tests.integration.test_billing_odbc import Billing
from tests.support.clock import ManualClock
from tests.unit.test_billing_cache import ControlledBilling
from workstation.adapters import make_billing, make_redis
from workstation.settings import Settings, load_settings

# shared session fixtures: one small demo billing per database
billing_files = fx.billing_files
pg_billings = fx.pg_billings


@pytest.fixture
async def redis_client(redis_url: str, redis_prefix: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    keys = [k async for k in client.scan_iter(match=f"{redis_prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
def source() -> ControlledBilling:
    b = ControlledBilling()
    b.add(make_card("1", "79161234567", name="Иванов Иван Иванович"))
    return b


@pytest.fixture
async def shared_redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client built as the workstation builds its one Redis client (short socket timeouts)."""
    client = make_redis(Settings(cache_url=redis_url))
    assert client is not None
    yield client
    await client.aclose()


def _front(
    source: ControlledBilling, redis: aioredis.Redis, prefix: str, clock: ManualClock | None = None
) -> CachedBilling:
    clock = clock or ManualClock(1_000_000.0)
    return CachedBilling(
        source,
        RedisStore(redis, prefix),
        redis=redis,
        prefix=prefix,
        clock=clock,
        breaker=CircuitBreaker(2, 10, clock=clock),
        answer_within_s=0.5,
    )


async def test_entries_are_json_under_the_prefix_with_a_key_ttl(
    shared_redis: aioredis.Redis,
    source: ControlledBilling,
    redis_url: str,
    redis_prefix: str,
    redis_client: aioredis.Redis,
) -> None:
    front = _front(source, shared_redis, redis_prefix)
    try:
        await front.lookup_caller("89161234567")
        raw = await redis_client.get(f"{redis_prefix}:billing:card:1")
        assert raw is not None
        entry = json.loads(raw)
        assert entry["v"]["name"] == "Иванов Иван Иванович"
        assert entry["fresh"] == 300.0
        assert json.loads(await redis_client.get(f"{redis_prefix}:billing:bal:1"))["fresh"] == 15.0
        assert 0 < await redis_client.ttl(f"{redis_prefix}:billing:msisdn:79161234567") <= 24 * 3600
    finally:
        await front.close()


async def test_two_nodes_share_the_cache_and_coalesce_within_each(
    shared_redis: aioredis.Redis,
    source: ControlledBilling,
    redis_url: str,
    redis_prefix: str,
    redis_client: aioredis.Redis,
) -> None:
    clock = ManualClock(1_000_000.0)
    node_a, node_b = (
        _front(source, shared_redis, redis_prefix, clock),
        _front(source, shared_redis, redis_prefix, clock),
    )
    try:
        source.gate = asyncio.Event()
        pending = [asyncio.ensure_future(node_a.lookup_caller("79161234567")) for _ in range(10)]
        while not source.calls:
            await asyncio.sleep(0.01)
        source.gate.set()
        assert {r.state for r in await asyncio.gather(*pending)} == {"found"}
        await node_a.flush()  # node A's cache writes land after its answer (write-behind)
        from_b = await node_b.lookup_caller("+7 916 123-45-67")
        assert from_b.freshness is not None
        assert from_b.freshness.source == "cache"
        assert source.calls == ["find", "card"]
    finally:
        await node_a.close()
        await node_b.close()


async def test_balance_expires_before_the_profile(
    shared_redis: aioredis.Redis,
    source: ControlledBilling,
    redis_url: str,
    redis_prefix: str,
    redis_client: aioredis.Redis,
) -> None:
    clock = ManualClock(1_000_000.0)
    front = _front(source, shared_redis, redis_prefix, clock)
    try:
        await front.lookup_caller("79161234567")
        clock.now += 16
        source.down = True
        stale = await front.lookup_caller("79161234567")
        assert stale.state == "found"
        assert stale.freshness is not None
        assert (stale.freshness.stale, stale.freshness.age_s, stale.freshness.billing_state) == (
            True,
            16.0,
            "unavailable",
        )
    finally:
        await front.close()


async def test_change_announced_on_the_channel_drops_the_card(
    shared_redis: aioredis.Redis,
    source: ControlledBilling,
    redis_url: str,
    redis_prefix: str,
    redis_client: aioredis.Redis,
) -> None:
    front = _front(source, shared_redis, redis_prefix)
    try:
        await front.start()
        await front.lookup_caller("79161234567")
        assert await redis_client.exists(f"{redis_prefix}:billing:card:1")
        await redis_client.publish(f"{redis_prefix}:billing:changed", "1")
        for _ in range(200):
            if not await redis_client.exists(f"{redis_prefix}:billing:card:1"):
                break
            await asyncio.sleep(0.02)
        assert not await redis_client.exists(f"{redis_prefix}:billing:card:1")
        await front.lookup_caller("79161234567")
        assert source.calls == ["find", "card", "card"]
    finally:
        await front.close()


async def test_redis_outage_never_breaks_a_pop(source: ControlledBilling, redis_prefix: str) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    dead_url = f"redis://127.0.0.1:{dead_port}/0"
    dead = make_redis(Settings(cache_url=dead_url))
    assert dead is not None
    front = CachedBilling(source, RedisStore(dead, redis_prefix), redis=dead, prefix=redis_prefix)
    try:
        found = await front.lookup_caller("79161234567")
        assert found.state == "found"
        assert found.card is not None
        assert (await front.lookup_caller("79161234567")).state == "found"
    finally:
        await front.close()
        await dead.aclose()


async def test_make_billing_over_odbc_with_redis_cache(
    pg_billings: dict[str, Billing], redis_url: str, redis_prefix: str, redis_client: aioredis.Redis
) -> None:
    settings = load_settings(
        billing_url="odbc://" + pg_billings["legacy"].odbc,
        billing_mapping="legacy_kopecks",
        cache_url=redis_url,
        redis_prefix=redis_prefix,
    )
    billing = make_billing(settings)
    try:
        card = (await billing.get_card("5")).card
        assert card is not None
        assert card.subscriber_id == "5"
        first = await billing.lookup_caller(card.msisdn)  # number → subscriber asked of billing once
        assert first.state == "found"
        assert first.card is not None
        assert first.card.subscriber_id == "5"
        again = await billing.lookup_caller(card.msisdn)
        assert again.state == "found"
        assert again.freshness.source == "cache"
        health = await billing.health()
        assert health["ok"] is True
        assert health["breaker"]["state"] == "closed"
    finally:
        await billing.close()


class OneTripBilling(ControlledBilling):
    """A billing answering number and card in one round trip, as the DB-API source does."""

    async def find_with_card(self, msisdn: str):  # type: ignore[no-untyped-def]
        refs = await self.find_by_msisdn(msisdn)
        return refs, (await self.card(refs[0].subscriber_id) if len(refs) == 1 else None)


async def test_a_new_callers_three_entries_go_to_redis_in_one_round_trip(
    shared_redis: aioredis.Redis, redis_prefix: str, redis_client: aioredis.Redis
) -> None:
    source = OneTripBilling()
    source.add(make_card("1", "79161234567", name="Иванов Иван Иванович"))
    front, other_node = _front(source, shared_redis, redis_prefix), _front(source, shared_redis, redis_prefix)
    try:
        found = await front.lookup_caller("79161234567")
        assert found.state == "found"
        await front.flush()
        keys = [f"{redis_prefix}:billing:{k}" for k in ("msisdn:79161234567", "card:1", "bal:1")]
        assert all(raw is not None for raw in await redis_client.mget(keys))
        assert front._writes.batches == 1  # number, profile and balance: one pipeline, off the pop
        again = await other_node.lookup_caller("+79161234567")
        assert again.card is not None
        assert again.card.name == "Иванов Иван Иванович"
        assert again.freshness is not None
        assert again.freshness.source == "cache"  # profile and balance read back together (MGET)
        assert source.calls == ["find", "card"]  # billing asked once, by the first node
    finally:
        await front.close()
        await other_node.close()
