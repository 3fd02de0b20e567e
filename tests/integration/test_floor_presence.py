"""Who has a tab open, across nodes (workstation.floor_presence): one node's tabs are seen by another through
Redis, gone when that node stops; the latest presence heard on the bus wins over the stored one."""

from __future__ import annotations

import asyncio

from workstation.adapters import make_redis
from workstation.bus.memory import MemoryBus
from workstation.floor_presence import FloorPresence
from workstation.hub import Hub
from workstation.settings import Settings


async def test_a_tab_on_one_node_is_online_on_the_other_until_that_node_stops(
    redis_url: str, redis_prefix: str
) -> None:
    settings = Settings(bus_url=redis_url, redis_prefix=redis_prefix)
    client_a, client_b = make_redis(settings), make_redis(settings)
    bus = MemoryBus()
    hub_a, hub_b = Hub(bus), Hub(bus)
    a = FloorPresence(hub_a, bus, client_a, redis_prefix)
    b = FloorPresence(hub_b, bus, client_b, redis_prefix)
    try:
        hub_a.register(7, "operator")
        assert await b.online() == set()  # not published yet
        await a.publish_once()
        assert await b.online() == {7}
        hub_b.register(8, "operator")
        assert await b.online() == {7, 8}  # its own tabs too
        running = asyncio.create_task(a.run())  # the node's background job, stopped with the node
        await asyncio.sleep(0)  # let it begin
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        assert await b.online() == {8}  # the stopped node's key went with it
    finally:
        for c in (client_a, client_b):
            assert c is not None
            await c.aclose()


async def test_the_latest_presence_heard_wins_over_the_stored_one() -> None:
    bus = MemoryBus()
    await bus.start()
    floor = FloorPresence(Hub(bus), bus, None, "t")
    assert floor.presence(7, "offline") == "offline"
    await bus.publish("role.supervisor", {"type": "floor.changed", "user_id": 7, "presence": "paused"})
    assert floor.presence(7, "ready") == "paused"
    await bus.stop()
