"""The websocket hub: fan-out per user and role, and a slow browser never grows server memory."""

from __future__ import annotations

import json

from workstation.bus.memory import MemoryBus
from workstation.hub import Hub, text_of


async def test_messages_fan_out_to_every_tab_of_the_user_only() -> None:
    hub = Hub(MemoryBus(), queue_size=8)
    a1, a2 = hub.register(1, "operator"), hub.register(1, "operator")
    b = hub.register(2, "operator")
    await hub.send_to_user(1, {"type": "call.offered"})
    assert a1.queue.get_nowait() == {"type": "call.offered", "v": 1}
    assert a2.queue.get_nowait()["type"] == "call.offered"
    assert b.queue.empty()


async def test_role_channel_reaches_only_that_role() -> None:
    hub = Hub(MemoryBus(), queue_size=8)
    eng = hub.register(5, "tech_support")
    op = hub.register(6, "operator")
    await hub.send_to_role("tech_support", {"type": "ticket.created"})
    assert eng.queue.get_nowait()["type"] == "ticket.created"
    assert op.queue.empty()


async def test_a_slow_tab_is_cut_off_instead_of_buffering_without_bound() -> None:
    hub = Hub(MemoryBus(), queue_size=8)
    slow = hub.register(1, "operator")
    for i in range(50):
        await hub.send_to_user(1, {"type": "x", "i": i})
    assert slow.overflowed
    assert slow.queue.qsize() <= 8
    assert hub.stats()["dropped_slow"] >= 42
    hub.unregister(slow)
    assert hub.connected_users() == set()


async def test_a_pop_overtakes_what_is_already_waiting_for_that_tab() -> None:
    hub = Hub(MemoryBus(), queue_size=16)
    tab = hub.register(1, "supervisor")
    for i in range(3):
        await hub.send_to_role("supervisor", {"type": "floor.changed", "i": i})
    await hub.send_to_user(1, {"type": "call.offered", "call": {"id": "c1"}})
    await hub.send_to_user(1, {"type": "call.withdrawn", "call": {"id": "c1"}})
    order = [tab.queue.get_nowait()["type"] for _ in range(5)]
    assert order == ["call.offered", "call.withdrawn", "floor.changed", "floor.changed", "floor.changed"]
    assert tab.queue.empty()


async def test_a_message_is_encoded_once_for_all_the_tabs_it_reaches() -> None:
    hub = Hub(MemoryBus(), queue_size=8)
    tabs = [hub.register(uid, "operator") for uid in range(1, 51)]
    await hub.send_to_role("operator", {"type": "kb.changed", "title": "Роуминг"})
    frames = [t.queue.get_nowait() for t in tabs]
    assert all(f is frames[0] for f in frames)  # one object, one JSON text
    assert json.loads(text_of(frames[0])) == {"type": "kb.changed", "title": "Роуминг", "v": 1}
