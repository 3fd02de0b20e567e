"""The server's shutdown (SIGTERM, a restart, a test's teardown) ends even when one adapter's close or
one background job never does: the stuck one is named in the log, the others are still closed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.apphelpers import make_container
from workstation import shutdown
from workstation.app import create_app


def test_shutdown_ends_past_a_stuck_close_and_a_job_that_ignores_cancel(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(shutdown, "STEP_S", 0.3)
    container = make_container(tmp_path, features=())
    closed: list[str] = []

    async def stuck_pool_close() -> None:
        await asyncio.get_running_loop().create_future()  # never completed

    async def last_close() -> None:  # registered first, so closed last: still runs
        closed.append("last")

    async def stubborn_job() -> None:
        # swallows the first cancellation, as a buggy job would (the event loop's own at its close ends it)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)
        await asyncio.sleep(3600)

    container.closers.insert(0, last_close)
    container.closers.append(stuck_pool_close)
    container.background.append(stubborn_job)
    app = create_app(container)
    with caplog.at_level(logging.ERROR, logger="workstation.shutdown"), TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
    assert closed == ["last"]
    assert "stuck_pool_close did not finish" in caplog.text
    assert "still running" in caplog.text
    container.db.dispose()
