"""The simulator keeps an operator paused through a replayed call: the capture's "Paused: 0" status lines
must not unpause someone the workstation paused for after-call work (they were rung again mid-wrap-up)."""

from __future__ import annotations

import asyncio

from telephony.ami import AmiTelephony
from telephony.events import AgentStatus, CallEvent
from telephony.simulator import AmiSimulator

USER, SECRET = "ccw", "qa-pause-secret"
A1 = "Local/1001@agents/n"


async def test_a_replayed_call_does_not_unpause_the_operator() -> None:
    sim = AmiSimulator(USER, SECRET)
    port = await sim.start("127.0.0.1", 0)
    sim.state.add_member("support", A1, "Operator 1001")
    events: list[CallEvent] = []

    async def handler(ev: CallEvent) -> None:
        events.append(ev)

    client = AmiTelephony("127.0.0.1", port, USER, SECRET)
    await client.start(handler)
    try:
        await sim.wait_for_clients(1)
        for _ in range(200):
            if client.health().get("connected"):
                break
            await asyncio.sleep(0.02)
        await client.pause(A1, True, "Wrap-up")
        before = len(events)
        # the answered capture carries QueueMemberStatus lines for the agent with "Paused: 0"
        await sim.play("answered", "+79161234567", agents=[(A1, "Operator 1001")], speed=50)
        assert sim.paused_agents() == {A1}
        statuses = [e for e in events[before:] if isinstance(e, AgentStatus) and e.agent == A1]
        assert statuses
        assert all(e.paused for e in statuses)
    finally:
        await client.stop()
        await sim.stop()


async def test_demo_operators_start_signed_out_and_are_rung_once_ready() -> None:
    from telephony.events import CallOffered
    from telephony.simulated import SimulatedTelephony

    tel = SimulatedTelephony(calls_per_min=0)
    ops = [("Local/1001@agents/n", "Анна"), ("Local/1002@agents/n", "Игорь")]
    tel.set_population(["+79161112233"], ops, signed_out=True)
    assert tel.simulator.paused_agents() == {i for i, _ in ops}
    offers: list[CallOffered] = []

    async def handler(ev: CallEvent) -> None:
        if isinstance(ev, CallOffered):
            offers.append(ev)

    await tel.start(handler)
    try:
        assert tel.client is not None
        await asyncio.wait_for(tel.client.logged_in.wait(), 5)
        # nobody is there yet: calls come (some callers give up in the queue) but no operator is rung
        await tel.simulator.run_calls(100, ["+79161112233"], ops, count=6, speed=50, seed=2)
        await tel.drain()  # every event of those calls has been handled
        assert offers == []
        await tel.pause("Local/1002@agents/n", False)  # Игорь signs in and is Ready
        await tel.simulator.run_calls(100, ["+79161112233"], ops, count=6, speed=50, seed=2)
        await tel.drain()
        assert offers
        assert {o.agent for o in offers} == {"Local/1002@agents/n"}
    finally:
        await tel.stop()
