"""The call-history writer's flush returns on a busy floor: it waits for what was queued, not for silence."""

from __future__ import annotations

import asyncio
from pathlib import Path

from workstation.calls.writer import CallWriter
from workstation.db import Database
from workstation.migrate import upgrade
from workstation.models import Call


async def test_flush_returns_while_other_calls_keep_writing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    db = Database(url)
    writer = CallWriter(db, batch_window_s=0.05)
    writer.start()
    stop = asyncio.Event()

    async def busy_floor() -> None:
        n = 0
        while not stop.is_set():
            writer.put("upsert", f"B{n}", caller="79030000000", state="queued")
            n += 1
            await asyncio.sleep(0.005)

    producer = asyncio.create_task(busy_floor())
    writer.put("upsert", "MINE", caller="79161234567", state="ended")
    await asyncio.wait_for(writer.flush(), timeout=10)
    with db.session() as s:
        row = s.get(Call, "MINE")
        assert row is not None
        assert row.state == "ended"
    stop.set()
    await producer
    await writer.stop()
    db.dispose()
