"""Queue pause over real AMI: an operator in after-call work or on a break is not rung."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from telephony.ami import AmiTelephony
from telephony.errors import TelephonyUnavailable
from telephony.events import AgentStatus, CallEvent, CallOffered
from telephony.simulator import AmiSimulator

USER, SECRET = "ccw", "pause-secret"
A1, A2 = "PJSIP/1001", "PJSIP/1002"


@pytest.fixture
async def pbx() -> AsyncIterator[tuple[AmiSimulator, AmiTelephony, list[CallEvent]]]:
    sim = AmiSimulator(USER, SECRET)
    port = await sim.start("127.0.0.1", 0)
    sim.state.add_member("support", A1, "Operator 1001")
    sim.state.add_member("support", A2, "Operator 1002")
    events: list[CallEvent] = []

    async def handler(ev: CallEvent) -> None:
        events.append(ev)

    client = AmiTelephony("127.0.0.1", port, USER, SECRET)
    await client.start(handler)
    await sim.wait_for_clients(1)
    for _ in range(200):
        if client.health().get("connected"):
            break
        await asyncio.sleep(0.02)
    yield sim, client, events
    await client.stop()
    await sim.stop()


async def test_paused_operator_is_not_rung_and_unpausing_brings_calls_back(pbx) -> None:  # type: ignore[no-untyped-def]
    sim, client, events = pbx
    await client.pause(A1, True, "Wrap-up")
    assert sim.paused_agents() == {A1}
    # the QueueMemberPause event reaches the listener as the member's status
    for _ in range(200):
        if any(isinstance(e, AgentStatus) and e.agent == A1 and e.paused for e in events):
            break
        await asyncio.sleep(0.02)
    assert any(isinstance(e, AgentStatus) and e.agent == A1 and e.paused for e in events)
    await sim.run_calls(
        50, ["+79161234567"], [(A1, "Operator 1001"), (A2, "Operator 1002")], count=3, speed=50, seed=1
    )
    rung = {e.agent for e in events if isinstance(e, CallOffered)}
    assert rung
    assert A1 not in rung
    await client.pause(A1, False)
    assert sim.paused_agents() == set()


async def test_pausing_an_unknown_interface_is_refused(pbx) -> None:  # type: ignore[no-untyped-def]
    _, client, _ = pbx
    with pytest.raises(TelephonyUnavailable, match="Interface not found"):
        await client.pause("PJSIP/9999", True, "Break")
    with pytest.raises(ValueError, match="interface"):
        await client.pause("PJSIP/1001\r\nAction: Originate", True)
