"""The figures over HTTP: board, report, CSV export (audited, no personal data), drill-down, an operator's day,
and clear errors for bad input."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from telephony.events import CallAnswered, CallEnded, CallOffered, CallQueued
from tests.apphelpers import add_user, login, make_container
from workstation.app import create_app
from workstation.kpis import feature as kpis_feature
from workstation.models import AuditLog

CALLER = "+79161234567"


def test_report_csv_drill_down_and_own_day_over_http(tmp_path: Path) -> None:
    container = make_container(tmp_path, features=(kpis_feature,), kpi_timezone="UTC")
    op = add_user(container, "op1", display_name="Operator One", interface="PJSIP/1001", extension="1001")
    add_user(container, "boss", role="supervisor")
    with TestClient(create_app(container)) as client:
        calls = container.calls
        kpis = container.kpis.kpis
        now = datetime.now(UTC).timestamp()
        t0 = now - 120

        async def play() -> None:
            for ev in (
                CallQueued("K1", t0, caller=CALLER, queue="support"),
                CallOffered("K1", t0 + 4, caller=CALLER, agent="PJSIP/1001", extension="1001"),
                CallAnswered(
                    "K1", t0 + 6, caller=CALLER, agent="PJSIP/1001", extension="1001", queue="support"
                ),
                CallEnded("K1", t0 + 66, agent="PJSIP/1001", extension="1001"),
            ):
                await calls.handle(ev)
            await calls.writer.flush()

        client.portal.call(play)  # type: ignore[union-attr]
        login(client, "op1")
        mine = client.get("/api/kpis/me").json()
        assert mine["answered"] == 1
        assert mine["avg_talk_s"] == 60.0
        assert client.get("/api/kpis/board").status_code == 403  # operators do not see the board
        login(client, "boss")
        board = client.get("/api/kpis/board").json()
        today = board["figures"]["today"]["support"]
        assert (today["offered"], today["answered"], today["asa_s"]) == (1, 1, 6.0)
        assert any(o["id"] == op for o in board["operators"])
        day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        period = {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}
        rows = client.get("/api/kpis/report", params={**period, "bucket": "day", "group": "operator"}).json()[
            "rows"
        ]
        assert [(r["key"], r["answered_all"], r["avg_talk_s"]) for r in rows] == [(op, 1, 60.0)]
        res = client.get("/api/kpis/report.csv", params={**period, "bucket": "hour"})
        assert res.status_code == 200
        assert res.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(res.text)))
        assert table[0]["key"] == "support"
        assert table[0]["offered"] == "1"
        assert CALLER[1:] not in res.text  # aggregates only
        with container.db.session() as s:
            assert s.scalar(select(AuditLog.action).where(AuditLog.action == "export.kpis")) == "export.kpis"
        drill = client.get("/api/kpis/calls", params={**period, "figure": "answered"}).json()["calls"]
        assert [(c["id"], c["wait_s"], c["talk_s"], c["operator"]) for c in drill] == [
            ("K1", 6, 60, "Operator One")
        ]
        assert all(CALLER not in str(c.values()) for c in drill)
        bad: Any = client.get(
            "/api/kpis/report", params={"from": "2026-01-02T00:00:00", "to": "2026-01-01T00:00:00"}
        )
        assert bad.status_code == 400
        assert bad.json()["error_id"] == "kpi_bad_period"
        bad = client.get("/api/kpis/calls", params={**period, "figure": "everything"})
        assert bad.status_code == 400
        assert bad.json()["error_id"] == "kpi_bad_figure"
        bad = client.get("/api/kpis/report", params={**period, "bucket": "minute"})
        assert bad.status_code == 422
        assert bad.json()["error_id"] == "invalid_input"
        assert kpis.live.facts["K1"].talk_s == 60
