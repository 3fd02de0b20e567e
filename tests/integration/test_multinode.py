"""Several server nodes on one Redis: a message published on one node reaches a tab on another, and
exactly one node holds the AMI consumer lock."""

from __future__ import annotations

import asyncio
from pathlib import Path

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


async def test_floor_on_a_node_without_the_ami_consumer_shows_the_consumers_telephony_health(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    from telephony.ami import AmiTelephony
    from telephony.simulator import AmiSimulator
    from tests.apphelpers import make_container

    sim = AmiSimulator("ccw", "nodes-secret", write="system,call,originate,reporting")  # no "agent"
    await sim.start("127.0.0.1", 0)
    nodes = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        tel = AmiTelephony("127.0.0.1", sim.port, "ccw", "nodes-secret")
        c = make_container(
            tmp_path / name, telephony=tel, features=[], bus_url=redis_url, redis_prefix=redis_prefix
        )
        await c.bus.start()
        await c.services["calls"].start()
        nodes.append((c, tel))
    (a, tel_a), (b, _) = nodes
    try:
        assert b.services["calls"].floor()["telephony"]["state"] == "down"
        await tel_a.start(a.services["calls"].handle)  # node a holds the AMI consumer lock
        for _ in range(500):
            if b.services["calls"].floor()["telephony"]["state"] != "down":
                break
            await asyncio.sleep(0.01)
        floor_b = b.services["calls"].floor()
        assert floor_b["telephony_up"] is True and floor_b["telephony"]["state"] == "degraded"
        assert [p["id"] for p in floor_b["telephony"]["problems"]] == ["ami_write_agent"]
    finally:
        await tel_a.stop()
        for c, _ in nodes:
            await c.services["calls"].stop()
            await c.bus.stop()
        await sim.stop()
