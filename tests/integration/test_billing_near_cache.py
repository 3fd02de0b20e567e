"""A node keeps fresh billing entries in process (no Redis round trip for a repeat caller), and a change
notice from billing still shows the new card at the very next pop."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import redis.asyncio as aioredis

from billing_adapter.cache import CachedBilling
from billing_adapter.memory import make_card
from tests.integration.test_billing_redis import _front, redis_client, shared_redis  # noqa: F401
from tests.unit.test_billing_cache import ControlledBilling

CALLER = "79161234567"


def _count_reads(front: CachedBilling) -> list[tuple[str, ...]]:
    reads: list[tuple[str, ...]] = []
    get_many = front.store.get_many

    async def counted(*keys: str) -> list[dict[str, Any] | None]:
        reads.append(keys)
        return await get_many(*keys)

    front.store.get_many = counted  # type: ignore[method-assign]
    return reads


async def _until(check: Any) -> None:
    for _ in range(250):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met")


async def test_repeat_caller_pops_without_redis_and_a_change_notice_shows_the_new_balance(
    shared_redis: aioredis.Redis,  # noqa: F811
    redis_prefix: str,
    redis_client: aioredis.Redis,  # noqa: F811
) -> None:
    source = ControlledBilling()
    source.add(make_card("1", CALLER, name="Иванов Иван Иванович", balance=-50.0))
    front = _front(source, shared_redis, redis_prefix)
    front.pending_s = 0.0  # not its own just-written entries (read-your-writes): only the in-process copy
    try:
        await front.start()
        first = await front.lookup_caller(CALLER)
        assert first.card is not None
        assert first.card.balance == -50.0
        await front.flush()
        reads = _count_reads(front)

        again = await front.lookup_caller("+7 916 123-45-67")
        assert again.card is not None
        assert again.card.balance == -50.0
        assert again.freshness is not None
        assert again.freshness.source == "cache"
        assert reads == []  # number, profile and balance came from this process

        # the operator tops the balance up in billing; billing announces the change
        source.cards["1"] = dataclasses.replace(source.cards["1"], balance=250.0)
        await redis_client.publish(f"{redis_prefix}:billing:changed", "1")

        async def new_balance_shown() -> bool:
            found = await front.lookup_caller(CALLER)
            return found.card is not None and found.card.balance == 250.0

        await _until(new_balance_shown)
        assert source.calls == ["find", "card", "card"]
    finally:
        await front.close()


async def test_entries_are_not_kept_in_process_while_change_notices_cannot_arrive(
    shared_redis: aioredis.Redis,  # noqa: F811
    redis_prefix: str,
    redis_client: aioredis.Redis,  # noqa: F811
) -> None:
    source = ControlledBilling()
    source.add(make_card("1", CALLER, balance=-50.0))
    front = _front(source, shared_redis, redis_prefix)
    front.pending_s = 0.0  # not its own just-written entries (read-your-writes): only the in-process copy
    try:
        await front.start()
        await front.lookup_caller(CALLER)
        await front.flush()
        assert front.changes is not None
        await front.changes.close()  # the listener is gone (Redis was away): notices may be missed
        front.changes._retry_at = float("inf")  # and is not restarted within this test
        reads = _count_reads(front)
        # billing changed the card and dropped it from Redis while this node could not hear it
        source.cards["1"] = dataclasses.replace(source.cards["1"], balance=250.0)
        await redis_client.delete(f"{redis_prefix}:billing:card:1", f"{redis_prefix}:billing:bal:1")

        found = await front.lookup_caller(CALLER)
        assert found.card is not None
        assert found.card.balance == 250.0
        assert reads  # asked Redis, not its own copy
    finally:
        await front.close()
