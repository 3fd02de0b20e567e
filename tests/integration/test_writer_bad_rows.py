"""One bad row never takes the others with it: after a batch fails, the writer goes row by row and
quarantines only what the database refuses (logged by id, without the value)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from tests.conftest import drop_pg_database, make_pg_database
from workstation.calls.writer import CallWriter
from workstation.db import Database
from workstation.migrate import upgrade
from workstation.models import Call


async def test_two_bad_caller_ids_do_not_take_three_good_calls_with_them(
    pg_server_url: str, tmp_path: Any, caplog: Any
) -> None:
    url = make_pg_database("badrows")
    try:
        upgrade(url)
        db = Database(url)
        writer = CallWriter(db, batch_window_s=0.05, journal=tmp_path / "outbox.sqlite")
        writer.start()
        caplog.set_level(logging.INFO)
        bad_long, bad_nul = "7" * 500, "7916\x00secret"
        writer.put("upsert", "G1", caller="79160000001", state="queued", queued_at=1.7e9)
        writer.put("upsert", "B1", caller=bad_long, state="queued", queued_at=1.7e9)
        writer.put("upsert", "G2", caller="79160000002", state="queued", queued_at=1.7e9)
        writer.put("upsert", "B2", caller=bad_nul, state="queued", queued_at=1.7e9)
        writer.put("upsert", "G3", caller="79160000003", state="queued", queued_at=1.7e9)
        assert await writer.flush() is True
        with db.session() as s:
            ids = set(s.scalars(select(Call.id)))
        assert ids == {"G1", "G2", "G3"}
        assert [(kind, cid) for _, kind, cid, _ in writer.outbox.quarantined()] == [
            ("upsert", "B1"),
            ("upsert", "B2"),
        ]
        text = "\n".join(r.getMessage() for r in caplog.records)
        assert "quarantined operation" in text
        assert "B1" in text
        assert "B2" in text
        assert bad_long not in text
        assert "secret" not in text
        await writer.stop()
        db.dispose()
    finally:
        drop_pg_database(url)
