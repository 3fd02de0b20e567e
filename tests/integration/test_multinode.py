"""Several server nodes on one Redis: a message published on one node reaches a tab on another, and
exactly one node holds the AMI consumer lock."""

from __future__ import annotations

import asyncio
from pathlib import Path

from billing_adapter.memory import MemoryBilling
from workstation.adapters import make_redis
from workstation.bootstrap import bootstrap
from workstation.bus.redis_bus import RedisBus
from workstation.hub import Hub
from workstation.leader import LeaderLock
from workstation.settings import Settings


async def test_pop_published_on_one_node_reaches_the_tab_on_another(two_nodes: tuple[Hub, Hub]) -> None:
    hub_a, hub_b = two_nodes
    tab_on_b = hub_b.register(7, "operator")
    other_on_a = hub_a.register(8, "operator")
    await hub_a.send_to_user(7, {"type": "call.offered", "call": {"id": "L1"}})
    msg = await asyncio.wait_for(tab_on_b.queue.get(), timeout=5)
    assert msg == {"type": "call.offered", "call": {"id": "L1"}, "v": 1}
    assert other_on_a.queue.empty()


async def test_a_nodes_own_tab_gets_its_pop_at_once_and_only_once(two_nodes: tuple[Hub, Hub]) -> None:
    hub_a, hub_b = two_nodes
    bus_a = hub_a.bus
    assert isinstance(bus_a, RedisBus)
    tab_on_a, tab_on_b = hub_a.register(7, "operator"), hub_b.register(7, "operator")
    await hub_a.send_to_user(7, {"type": "call.offered", "call": {"id": "A1"}})
    assert bus_a._publisher.round_trips == 0  # nothing has been to Redis yet
    assert tab_on_a.queue.get_nowait()["call"]["id"] == "A1"  # the node's own tab has it already
    await bus_a.flush()
    await hub_b.send_to_user(7, {"type": "call.offered", "call": {"id": "B1"}})
    # Redis hands node A its own A1 back before B1: had A delivered it again, it would come first
    second = await asyncio.wait_for(tab_on_a.queue.get(), timeout=5)
    assert second["call"]["id"] == "B1"
    got_on_b = [(await asyncio.wait_for(tab_on_b.queue.get(), 5))["call"]["id"] for _ in range(2)]
    assert got_on_b == ["A1", "B1"]
    assert tab_on_a.queue.empty()


async def _one_leader_then_the_other(lock_a: LeaderLock, lock_b: LeaderLock) -> None:
    """Both nodes run their lock; one acquires; when it goes, the other takes over."""
    started: list[str] = []

    def run(name: str, lock: LeaderLock) -> asyncio.Task[None]:
        async def on_acquire() -> None:
            started.append(name)

        async def on_lose() -> None:
            started.append(f"{name}-lost")

        return asyncio.create_task(lock.run(on_acquire, on_lose))

    task_a, task_b = run("a", lock_a), run("b", lock_b)
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


async def test_only_one_node_consumes_ami_and_another_takes_over(redis_url: str, redis_prefix: str) -> None:
    settings = Settings(cache_url=redis_url, redis_prefix=redis_prefix)
    clients = [make_redis(settings), make_redis(settings)]
    key = settings.lock_key("ami-consumer")
    try:
        await _one_leader_then_the_other(
            LeaderLock(clients[0], key, ttl_ms=600), LeaderLock(clients[1], key, ttl_ms=600)
        )
    finally:
        for c in clients:
            assert c is not None
            await c.aclose()


async def test_a_redis_bus_with_an_in_process_cache_still_has_one_ami_consumer(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    """Nodes that share a Redis bus share its lock, whatever cache they use."""
    settings = Settings(
        data_dir=tmp_path, bus_url=redis_url, cache_url="memory://", redis_prefix=redis_prefix
    )
    nodes = [bootstrap(settings, billing=MemoryBilling(), telephony=False, features=()) for _ in range(2)]
    for n in nodes:
        n.leader.ttl_ms = 600
    try:
        await _one_leader_then_the_other(nodes[0].leader, nodes[1].leader)
    finally:
        for n in nodes:
            assert n.redis is not None
            await n.redis.aclose()


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
        await c.calls.start()
        nodes.append((c, tel))
    (a, tel_a), (b, _) = nodes
    try:
        assert b.calls.floor()["telephony"]["state"] == "down"
        await tel_a.start(a.calls.handle)  # node a holds the AMI consumer lock
        for _ in range(500):
            if b.calls.floor()["telephony"]["state"] != "down":
                break
            await asyncio.sleep(0.01)
        floor_b = b.calls.floor()
        assert floor_b["telephony_up"] is True
        assert floor_b["telephony"]["state"] == "degraded"
        assert [p["id"] for p in floor_b["telephony"]["problems"]] == ["ami_write_agent"]
    finally:
        await tel_a.stop()
        for c, _ in nodes:
            await c.calls.stop()
            await c.bus.stop()
        await sim.stop()
