"""The tarpit holds refusals with a timer, never more than its bound: past it, refusals go out at once."""

from __future__ import annotations

import asyncio

from workstation.signin import AttemptLimiter, Tarpit


async def test_refusals_past_the_bound_are_answered_at_once() -> None:
    tarpit = Tarpit(delay_s=30.0, max_held=3)
    held = [asyncio.create_task(tarpit.hold()) for _ in range(3)]
    while tarpit.held < 3:
        await asyncio.sleep(0)
    await asyncio.wait_for(tarpit.hold(), timeout=5)  # the fourth is not held
    assert tarpit.overflow == 1
    assert not any(t.done() for t in held)
    for t in held:
        t.cancel()
    await asyncio.gather(*held, return_exceptions=True)
    assert tarpit.held == 0


def test_a_lock_learnt_from_another_node_holds_here_without_asking_again() -> None:
    now = [100.0]
    limiter = AttemptLimiter(free=5, clock=lambda: now[0])
    limiter.lock_for("op1", 4.0)
    assert limiter.wait_s("op1") == 4.0
    now[0] += 5
    assert limiter.wait_s("op1") == 0.0
