"""Bus publishes on Redis go through one pipelined connection: a burst stays in order, does not open a
connection per message, and a Redis that is away fails every waiting publish instead of hanging them
(and is counted for the messages nobody waits for)."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
import redis.exceptions

from workstation.bus.redis_bus import RedisBus
from workstation.bus.redis_publisher import PipelinedPublisher
from workstation.hub import Hub


async def test_a_burst_of_pops_reaches_another_node_in_order_over_one_connection(
    two_nodes: tuple[Hub, Hub],
) -> None:
    hub, other_hub = two_nodes
    bus = hub.bus
    assert isinstance(bus, RedisBus)
    tab = other_hub.register(7, "operator")
    await asyncio.gather(
        *(hub.send_to_user(7, {"type": "call.offered", "call": {"id": f"c{i}"}}) for i in range(300))
    )
    got = [(await asyncio.wait_for(tab.queue.get(), 5))["call"]["id"] for _ in range(300)]
    assert got == [f"c{i}" for i in range(300)]
    pool = bus._redis.connection_pool
    # the subscription's connection and one for publishing, however many pops were in flight
    assert len(pool._available_connections) + len(pool._in_use_connections) <= 2
    assert bus._publisher.round_trips < 300  # batched: several publishes per round trip
    assert hub.stats()["bus_failures"] == 0


async def test_redis_away_fails_each_waiting_publish() -> None:
    dead = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2, socket_timeout=0.2)
    publisher = PipelinedPublisher(dead)
    results = await asyncio.gather(*(publisher.publish("ch", "m") for _ in range(5)), return_exceptions=True)
    assert len(results) == 5
    assert all(isinstance(r, redis.exceptions.ConnectionError) for r in results)
    await publisher.stop()
    await dead.aclose()


@pytest.mark.parametrize("n", [1, 50])
async def test_every_caller_is_answered(redis_url: str, n: int) -> None:
    client = aioredis.from_url(redis_url)
    publisher = PipelinedPublisher(client)
    assert await asyncio.gather(*(publisher.publish("ws:test", str(i)) for i in range(n))) == [None] * n
    await publisher.stop()
    await client.aclose()


async def test_messages_nobody_waits_for_are_counted_when_redis_is_away() -> None:
    dead = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2, socket_timeout=0.2)
    publisher = PipelinedPublisher(dead)
    for i in range(5):
        publisher.send("ch", str(i))
    await publisher.flush()
    assert publisher.failed == 5
    await publisher.stop()
    await dead.aclose()
