"""The whole loop on real parts: demo billing (SQLite through the DB-API adapter's batch queries), the
workstation DB on PostgreSQL, the HTTP API: analyst export → marketing campaign with re-linking →
offer on the operator's card → outcome → conversion, with the audit log and the role rules."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pycanon import anonymity
from sqlalchemy import select

from billing_adapter.demo import DemoSpec, generate_sqlite
from tests.apphelpers import add_user, login, make_container
from tests.conftest import drop_pg_database, make_pg_database
from workstation.adapters import make_billing_source
from workstation.app import create_app
from workstation.bootstrap import Container
from workstation.campaigns.models import CampaignTarget, SegmentExport
from workstation.models import AuditLog
from workstation.settings import Settings

KEY = "integration-test-pseudonym-key-0123456789"


@pytest.fixture(scope="module")
def billing_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("billing") / "billing.db"
    generate_sqlite(path, DemoSpec(subscribers=1500, as_of=date(2026, 7, 1)))
    return path


@dataclass
class Env:
    container: Container
    client: TestClient
    billing_db: Path

    def as_user(self, username: str) -> TestClient:
        self.client.cookies.clear()
        login(self.client, username)
        return self.client


def _env(tmp_path: Path, billing_db: Path, key: str | None) -> Iterator[Env]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    db_url = make_pg_database("campaigns")
    billing = make_billing_source(Settings(billing_url=f"sqlite:///{billing_db}"))
    extra = {"pseudonym_key": key} if key else {}
    container = make_container(tmp_path, db_url=db_url, billing=billing, pseudonym_key_id="k-2026", **extra)
    for name, role in (("ana", "analyst"), ("mkt", "marketing"), ("op1", "operator")):
        add_user(container, name, role=role)
    try:
        with TestClient(create_app(container)) as client:
            yield Env(container, client, billing_db)
    finally:
        container.db.dispose()
        drop_pg_database(db_url)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, billing_db: Path, pg_server_url: str) -> Iterator[Env]:
    """One workstation for the module: the tests below run in file order on its state."""
    yield from _env(tmp_path_factory.mktemp("ws"), billing_db, KEY)


@pytest.fixture
def env_without_key(tmp_path: Path, billing_db: Path, pg_server_url: str) -> Iterator[Env]:
    yield from _env(tmp_path, billing_db, None)


@pytest.fixture(scope="module")
def done(env: Env) -> dict:
    """The analyst's export the campaign tests build on."""
    return _export(env, reason="Q2 segmentation")


def _export(env: Env, **body: object) -> dict:
    c = env.as_user("ana")
    r = c.post("/api/exports", json={"month_from": "2026-01", "month_to": "2026-06", "k": 5, **body})
    assert r.status_code == 202, r.text
    export_id = r.json()["id"]
    env.container.segments.exports.wait(export_id, timeout=120)
    return c.get(f"/api/exports/{export_id}").json()


def _names_and_numbers(billing_db: Path) -> list[str]:
    with sqlite3.connect(billing_db) as conn:
        rows = conn.execute(
            "SELECT s.last_name, m.msisdn FROM subscribers s JOIN msisdns m ON m.account_id = s.id"
        ).fetchall()
    return [v for row in rows[:200] for v in row]


def test_analyst_export_shows_privacy_report_and_no_identity(env: Env, done: dict) -> None:
    assert done["state"] == "done", done
    privacy = done["summary"]["privacy"]
    assert privacy["k_achieved"] >= 5
    assert done["rows"] > 0
    assert done["summary"]["key_id"] == "k-2026"
    assert {p["segment"] for p in done["summary"]["segments"]["value_tiers"]["profiles"]} <= {
        "low", "middle", "high", "premium"
    }  # fmt: skip
    text = json.dumps(done, ensure_ascii=False)
    assert not [v for v in _names_and_numbers(env.billing_db) if str(v) in text]
    manifest = env.as_user("ana").get(f"/api/exports/{done['id']}/files/manifest.json")
    assert manifest.status_code == 200
    assert manifest.json()["rows"] == done["rows"]
    assert KEY not in manifest.text
    with env.container.db.session() as s:
        audit = s.scalars(select(AuditLog).where(AuditLog.subject == done["id"])).all()
        assert next((a.action, a.reason, a.details.get("rows")) for a in audit) == (
            "export.segments",
            "Q2 segmentation",
            done["rows"],
        )
        assert [a.action for a in audit][1:] == ["export.download"]
        assert audit[1].user_id is not None
    # an independent check of the bundle written from real billing batches
    bundle = env.container.segments.exports.bundle_path(done["id"])
    data = pd.read_parquet(bundle / "data.parquet")
    cols = [c for c in data.columns if c != "pseudonym"]  # the whole released record
    assert anonymity.k_anonymity(data[cols].astype(str), cols) >= 5
    assert privacy["l_diversity_arpu_band"] >= 2
    assert "arpu_band" not in data.columns


def test_campaign_relinks_segment_and_offer_reaches_the_card_with_conversion(env: Env, done: dict) -> None:
    counts = done["summary"]["segments"]["counts"]
    segments = [s for s in ("tier:high", "tier:premium") if counts.get(s)]
    body = {
        "name": "Безлимит для ценных",
        "offer_text": "Скидка 20% на тариф Безлимит на 3 месяца",
        "export_id": done["id"],
        "segments": segments,
        "starts_on": "2026-01-01",
        "ends_on": "2099-12-31",
    }
    assert env.as_user("ana").post("/api/campaigns", json=body).status_code == 403
    r = env.as_user("mkt").post("/api/campaigns", json={**body, "reason": "upsell"})
    assert r.status_code == 201, r.text
    campaign = r.json()
    assert campaign["targets"] == sum(counts[s] for s in segments) > 0
    assert "subscriber" not in json.dumps(campaign)

    with env.container.db.session() as s:
        targets = [t.subscriber_id for t in s.scalars(select(CampaignTarget)).all()]
        relink = s.scalars(select(AuditLog).where(AuditLog.action == "campaign.relink")).one()
        assert relink.details["subscribers_linked"] == len(targets)
        assert relink.reason == "upsell"
    # independently from billing: tiers are set on groups of ≥ k subscribers (the whole released record is
    # k-anonymous), so the re-linked subscribers' ARPU is ≥ 700 on average, most of them individually
    with sqlite3.connect(env.billing_db) as conn:
        arpu = dict(
            conn.execute(
                "SELECT c.subscriber_id, SUM(c.amount) / COUNT(DISTINCT c.month) FROM charges c "
                "WHERE c.month BETWEEN '2026-01' AND '2026-06' GROUP BY c.subscriber_id"
            ).fetchall()
        )
    linked = np.array([arpu[int(t)] for t in targets])
    assert linked.mean() >= 700, (linked.mean(), (linked >= 699.99).mean())
    assert (linked >= 699.99).mean() >= 0.6, (linked.mean(), (linked >= 699.99).mean())

    op = env.as_user("op1")
    sections = op.get(f"/api/subscribers/{targets[0]}/sections").json()
    assert [o["offer_text"] for o in sections["offers"]] == [body["offer_text"]]
    untargeted = next(str(i) for i in range(1, 1501) if str(i) not in set(targets))
    assert op.get(f"/api/subscribers/{untargeted}/sections").json()["offers"] == []
    r = op.post(
        f"/api/campaigns/{campaign['id']}/outcome", json={"subscriber_id": targets[0], "outcome": "accepted"}
    )
    assert r.status_code == 200
    r = op.post(
        f"/api/campaigns/{campaign['id']}/outcome", json={"subscriber_id": untargeted, "outcome": "accepted"}
    )
    assert r.status_code == 404
    r = op.post(
        f"/api/campaigns/{campaign['id']}/outcome", json={"subscriber_id": targets[0], "outcome": "maybe"}
    )
    assert r.status_code == 400

    listed = env.as_user("mkt").get("/api/campaigns").json()["campaigns"][0]
    assert listed["outcomes"]["accepted"] == 1
    assert listed["conversion"] == 1.0
    # the analyst sees the campaign as counts only: the same summary, no list of subscribers anywhere
    analyst_view = env.as_user("ana").get("/api/campaigns").json()["campaigns"][0]
    assert set(analyst_view) == set(campaign)
    assert isinstance(analyst_view["targets"], int)
    assert not any(isinstance(v, list) and len(v) == len(targets) for v in analyst_view.values())


def test_export_without_key_is_refused_with_a_clear_error(env_without_key: Env) -> None:
    c = env_without_key.as_user("ana")
    r = c.post("/api/exports", json={"month_from": "2026-01", "month_to": "2026-06"})
    assert r.status_code == 503
    assert r.json()["error_id"] == "pseudonym_key_missing"
    assert "WORKSTATION_PSEUDONYM_KEY" in r.json()["message"]
    with env_without_key.container.db.session() as s:
        assert s.scalars(select(SegmentExport)).all() == []


def test_export_of_an_empty_period_fails_visibly_and_leaves_no_bundle(env: Env) -> None:
    done = _export(env, month_from="2030-01", month_to="2030-06")
    assert done["state"] == "failed"
    assert "no billing charges for 2030-01..2030-06" in done["error"]
    exports_dir = Path(env.container.settings.data_dir) / "exports"
    assert sorted(p.name for p in exports_dir.iterdir()) == sorted(
        x["id"] for x in env.as_user("ana").get("/api/exports").json()["exports"] if x["state"] == "done"
    )
