"""Several server nodes on one Redis: a message published on one node reaches a tab on another, and
exactly one node holds the AMI consumer lock."""

from __future__ import annotations

import asyncio

from workstation.bus.redis_bus import RedisBus
from workstation.hub import Hub
from workstation.leader import LeaderLock
from workstation.settings import Settings


async def test_pop_published_on_one_node_reaches_the_tab_on_another(
    redis_url: str, redis_prefix: str
) -> None:
    bus_a, bus_b = RedisBus(redis_url, prefix=redis_prefix), RedisBus(redis_url, prefix=redis_prefix)
    hub_a, hub_b = Hub(bus_a), Hub(bus_b)
    await bus_a.start()
    await bus_b.start()
    try:
        tab_on_b = hub_b.register(7, "operator")
        other_on_a = hub_a.register(8, "operator")
        await hub_a.send_to_user(7, {"type": "call.offered", "call": {"id": "L1"}})
        msg = await asyncio.wait_for(tab_on_b.queue.get(), timeout=5)
        assert msg == {"type": "call.offered", "call": {"id": "L1"}, "v": 1}
        await asyncio.sleep(0.2)
        assert other_on_a.queue.empty()
    finally:
        await bus_a.stop()
        await bus_b.stop()


async def test_only_one_node_consumes_ami_and_another_takes_over(redis_url: str, redis_prefix: str) -> None:
    settings = Settings(cache_url=redis_url, redis_prefix=redis_prefix)
    started: list[str] = []

    def node(name: str) -> tuple[LeaderLock, asyncio.Task[None]]:
        lock = LeaderLock(settings, "ami-consumer", ttl_ms=600)

        async def on_acquire() -> None:
            started.append(name)

        async def on_lose() -> None:
            started.append(f"{name}-lost")

        return lock, asyncio.create_task(lock.run(on_acquire, on_lose))

    (lock_a, task_a), (lock_b, task_b) = node("a"), node("b")
    for _ in range(50):
        if started:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    assert len(started) == 1, started
    first = started[0]
    leader, leader_task = (lock_a, task_a) if first == "a" else (lock_b, task_b)
    leader_task.cancel()
    await asyncio.gather(leader_task, return_exceptions=True)
    await leader.release()
    for _ in range(60):
        if len(started) == 2:
            break
        await asyncio.sleep(0.05)
    assert started[1] == ("b" if first == "a" else "a")
    for t in (task_a, task_b):
        t.cancel()
    await asyncio.gather(task_a, task_b, return_exceptions=True)
    await lock_a.release()
    await lock_b.release()
