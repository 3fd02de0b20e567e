"""Exports run one at a time in the order asked; the others wait with their position shown, and a full
queue refuses more with ``export_queue_full`` (eight at once used to double the server's memory). An
export of the billing the settings name runs in a worker process, apart from the event loop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.apphelpers import add_user, login
from tests.integration.test_campaigns_flow import KEY, Env, _env, billing_db  # noqa: F401
from workstation.app import create_app
from workstation.bootstrap import bootstrap
from workstation.migrate import upgrade
from workstation.segments import feature as segments
from workstation.settings import Settings


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


def test_an_export_of_the_configured_billing_runs_in_a_process_apart(
    tmp_path: Path,
    billing_db: Path,  # noqa: F811
) -> None:
    url = f"sqlite:///{tmp_path / 'ws.db'}"
    upgrade(url)
    settings = Settings(
        data_dir=tmp_path,
        database_url=url,
        billing_url=f"sqlite:///{billing_db}",
        pseudonym_key=KEY,
        pseudonym_key_id="k-2026",
    )
    container = bootstrap(settings, telephony=False, features=(segments,))  # billing from the settings
    add_user(container, "ana", role="analyst")
    exports = container.segments.exports  # type: ignore[union-attr]
    try:
        with TestClient(create_app(container)) as client:
            login(client, "ana")
            r = client.post("/api/exports", json={"month_from": "2026-01", "month_to": "2026-06", "k": 5})
            assert r.status_code == 202
            exports.wait(r.json()["id"], timeout=180)
            done = client.get(f"/api/exports/{r.json()['id']}").json()
        assert done["state"] == "done"
        assert done["rows"] > 0
        assert exports.ran_apart == 1  # not on a thread of the server
    finally:
        container.db.dispose()
