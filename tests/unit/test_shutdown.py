"""The shutdown always ends: a step or a task that never finishes is named in the log and left behind."""

from __future__ import annotations

import asyncio
import logging

import pytest

from workstation import shutdown


async def test_a_step_that_never_finishes_is_named_and_the_shutdown_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def stuck_close() -> None:
        await never  # a future nothing will complete, as a stuck driver's close

    with caplog.at_level(logging.ERROR, logger="workstation.shutdown"):
        ok = await shutdown.step("redis pool", stuck_close(), deadline_s=0.05)
    assert ok is False
    assert "redis pool did not finish" in caplog.text
    assert "stuck_close" in caplog.text  # where it was waiting
    assert await shutdown.step("bus", asyncio.sleep(0), deadline_s=1.0) is True


async def test_a_failing_step_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def broken() -> None:
        raise ConnectionError("gone")

    with caplog.at_level(logging.ERROR, logger="workstation.shutdown"):
        assert await shutdown.step("billing", broken(), deadline_s=1.0) is False
    assert "billing failed (ConnectionError)" in caplog.text


async def test_a_task_that_swallows_its_cancellation_is_left_behind(caplog: pytest.LogCaptureFixture) -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:  # as asyncio.wait_for on 3.11 can lose a cancellation
                continue

    async def polite() -> None:
        await asyncio.sleep(3600)

    tasks = [asyncio.create_task(stubborn(), name="stubborn"), asyncio.create_task(polite(), name="polite")]
    await asyncio.sleep(0)
    with caplog.at_level(logging.ERROR, logger="workstation.shutdown"):
        stuck = await shutdown.cancel_all(tasks, deadline_s=0.05)
    assert stuck == ["stubborn"]
    assert tasks[1].cancelled()
    assert "task stubborn still running" in caplog.text
    release.set()
    tasks[0].cancel()
    await asyncio.wait(tasks[:1], timeout=1.0)
    assert tasks[0].done()
