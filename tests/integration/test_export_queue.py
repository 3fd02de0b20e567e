"""Exports run one at a time in the order asked; the others wait with their position shown, and a full
queue refuses more with ``export_queue_full`` (eight at once used to double the server's memory)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_campaigns_flow import KEY, Env, _env, billing_db  # noqa: F401


@pytest.fixture
def env(tmp_path: Path, billing_db: Path, pg_server_url: str) -> Iterator[Env]:  # noqa: F811
    yield from _env(tmp_path, billing_db, KEY)


def test_exports_wait_their_turn_with_their_position_shown(env: Env) -> None:
    c = env.as_user("ana")
    exports = env.container.segments.exports  # type: ignore[union-attr]
    exports.max_waiting = 3
    body = {"month_from": "2026-01", "month_to": "2026-06", "k": 5}
    replies = [c.post("/api/exports", json=body) for _ in range(5)]
    accepted = [r.json() for r in replies if r.status_code == 202]
    refused = [r.json() for r in replies if r.status_code == 503]
    assert refused
    assert all(r["error_id"] == "export_queue_full" for r in refused)
    positions = [c.get(f"/api/exports/{e['id']}").json()["queue_position"] for e in accepted]
    assert positions[0] == 0
    assert positions[1:] == sorted(positions[1:])
    assert max(positions) >= 1
    for e in accepted:
        exports.wait(e["id"], timeout=180)
    done = [c.get(f"/api/exports/{e['id']}").json() for e in accepted]
    assert [d["state"] for d in done] == ["done"] * len(done)
    finished = [d["finished_at"] for d in done]
    assert finished == sorted(finished)  # in the order asked
    assert exports._running == 0
    assert exports.queue_position(accepted[-1]["id"]) == 0
