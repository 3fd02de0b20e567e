"""Request records over HTTP on SQLite and on a real PostgreSQL (migrated with Alembic head)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from billing_adapter.memory import MemoryBilling, make_card
from tests.apphelpers import add_user, login, make_container
from tests.conftest import drop_pg_database, make_pg_database
from tests.support.models import install_pretrained
from workstation.app import create_app
from workstation.bootstrap import Container
from workstation.models import AuditLog, Call
from workstation.records.models import RequestRecord


@dataclass
class Env:
    container: Container
    client: TestClient
    op1: int
    op2: int

    def as_user(self, username: str) -> TestClient:
        login(self.client, username)
        return self.client


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Env]:
    db_url = None
    if request.param == "postgresql":
        request.getfixturevalue("pg_server_url")
        db_url = make_pg_database("records")
    install_pretrained(tmp_path / "models")
    billing = MemoryBilling()
    billing.add(make_card("1", "79161234567", balance=-35.0))
    billing.add(make_card("2", "79031112233"))
    container = make_container(tmp_path, db_url=db_url, billing=billing)
    container.records.classifier.registry.refresh()
    op1 = add_user(container, "op1", display_name="Оператор Один")
    op2 = add_user(container, "op2")
    add_user(container, "sup", role="supervisor")
    try:
        with TestClient(create_app(container)) as client:
            yield Env(container, client, op1, op2)
    finally:
        container.db.dispose()
        if db_url:
            drop_pg_database(db_url)


def add_call(env: Env, call_id: str, operator_id: int, subscriber_id: str = "1") -> None:
    t0 = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
    with env.container.db.session() as s:
        s.add(
            Call(
                id=call_id,
                caller="79161234567",
                operator_id=operator_id,
                subscriber_id=subscriber_id,
                state="ended",
                queued_at=t0,
                offered_at=t0 + timedelta(seconds=12),
                answered_at=t0 + timedelta(seconds=15),
                ended_at=t0 + timedelta(seconds=195),
            )
        )


def test_operator_records_a_request_with_suggested_topics_and_sees_it_on_the_card(env: Env) -> None:
    c = env.as_user("op1")
    sug = c.post(
        "/api/records/suggest", json={"text": "не приходят смс от банка", "subscriber_id": "1"}
    ).json()
    assert sug["suggestions"][0]["code"] == "sms_problem"
    assert sug["suggestions"][0]["name_ru"] == "Проблемы с SMS"
    assert sug["abstain"] is False
    assert sug["model_version"] == 1
    assert sug["context"]["negative_balance"] is True  # from the subscriber's card
    shown = [{"code": s["code"], "confidence": s["confidence"]} for s in sug["suggestions"]]
    draft = c.post(
        "/api/records",
        json={"note": "не приходят смс", "subscriber_id": "1", "shown": shown, "reason": "callback"},
    ).json()
    assert draft["status"] == "open"
    done = c.put(
        f"/api/records/{draft['id']}",
        json={
            "note": "не приходят смс от банка, перезагрузил",
            "topics": ["sms_problem", "device_settings"],
            "outcome": "resolved",
            "shown": shown,
            "model_version": 1,
            "finish": True,
        },
    ).json()
    assert done["status"] == "finished"
    assert done["accepted_rank"] == 1
    assert [t["code"] for t in done["topics"]] == ["sms_problem", "device_settings"]
    card = c.get("/api/subscribers/1/sections").json()["requests"]
    assert card[0]["id"] == draft["id"]
    assert card[0]["topics"][0]["name_en"] == "SMS problem"
    listed = c.get("/api/records", params={"subscriber_id": "1"}).json()["records"]
    assert [r["id"] for r in listed] == [draft["id"]]
    assert listed[0]["operator"] == "Оператор Один"
    with env.container.db.session() as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "records.view", AuditLog.subject == "1"))


def test_finishing_a_call_record_ends_after_call_work_and_keeps_timings(env: Env) -> None:
    add_call(env, "call-1", env.op1)
    c = env.as_user("op1")
    r = c.post(
        "/api/records",
        json={
            "call_id": "call-1",
            "note": "роуминг в турции",
            "topics": ["roaming"],
            "outcome": "escalated",
            "finish": True,
        },
    )
    assert r.status_code == 200, r.text
    rec = r.json()
    assert rec["wrapup"] == "finished"
    assert rec["subscriber_id"] == "1"
    assert (rec["wait_s"], rec["ring_s"], rec["talk_s"]) == (12.0, 3.0, 180.0)
    assert rec["acw_s"] is not None
    assert rec["acw_s"] > 0


def test_another_operators_call_cannot_be_recorded_and_nothing_is_saved(env: Env) -> None:
    add_call(env, "call-2", env.op2)
    c = env.as_user("op1")
    r = c.post(
        "/api/records",
        json={"call_id": "call-2", "note": "x", "topics": ["roaming"], "outcome": "resolved", "finish": True},
    )
    assert r.status_code == 409
    assert r.json()["error_id"] == "not_your_call"
    r = c.post(
        "/api/records", json={"call_id": "nope", "note": "x", "topics": ["roaming"], "outcome": "resolved"}
    )
    assert r.status_code == 404
    assert r.json()["error_id"] == "call_not_found"
    with env.container.db.session() as s:
        assert s.scalars(select(RequestRecord)).all() == []


BAD_RECORDS: list[tuple[dict[str, Any], str]] = [
    ({"topics": ["no_such_topic"], "outcome": "resolved"}, "unknown_topic"),
    ({"topics": ["finance"], "outcome": "resolved"}, "unknown_topic"),  # a parent is not a leaf topic
    ({"topics": ["roaming"], "outcome": "maybe"}, "bad_outcome"),
    ({"topics": [], "outcome": "resolved"}, "no_topic"),
    ({"topics": ["other"], "outcome": "resolved", "note": "  "}, "note_required"),
]


def test_bad_record_input_gets_a_clear_error_and_saves_nothing(env: Env) -> None:
    c = env.as_user("op1")
    for body, error_id in BAD_RECORDS:
        r = c.post(
            "/api/records",
            json={"note": "заметка", "subscriber_id": "2", "reason": "callback", "finish": True, **body},
        )
        assert r.status_code == 400, body
        assert r.json()["error_id"] == error_id, body
        assert r.json()["message"]
    r = c.post("/api/records", json={"note": "x", "topics": "roaming"})
    assert r.status_code == 422
    assert r.json()["error_id"] == "invalid_input"
    r = c.post("/api/records", json={})
    assert r.status_code == 400
    assert r.json()["error_id"] == "record_empty"
    # a subscriber's record needs the operator's call, or a reason
    r = c.post("/api/records", json={"note": "x", "topics": ["roaming"], "subscriber_id": "2"})
    assert r.status_code == 400
    assert r.json()["error_id"] == "reason_required"
    assert c.get("/api/records", params={"subscriber_id": "2"}).json()["records"] == []


def test_a_draft_can_be_edited_until_finished_then_not(env: Env) -> None:
    c = env.as_user("op1")
    draft = c.post("/api/records", json={"note": "смс", "topics": ["sms_problem"]}).json()
    edited = c.put(
        f"/api/records/{draft['id']}",
        json={"note": "смс и настройки", "topics": ["sms_problem", "device_settings"]},
    ).json()
    assert [t["code"] for t in edited["topics"]] == ["sms_problem", "device_settings"]
    done = c.put(
        f"/api/records/{draft['id']}",
        json={"note": "настройки", "topics": ["device_settings"], "outcome": "resolved", "finish": True},
    ).json()
    assert [t["code"] for t in done["topics"]] == ["device_settings"]
    assert done["status"] == "finished"
    rec = c.post(
        "/api/records",
        json={"note": "нет сети", "topics": ["no_network"], "outcome": "resolved", "finish": True},
    ).json()
    r = c.put(f"/api/records/{rec['id']}", json={"note": "другое", "topics": ["roaming"]})
    assert r.status_code == 409
    assert r.json()["error_id"] == "record_finished"
    c = env.as_user("op2")
    draft = env.as_user("op1").post("/api/records", json={"note": "черновик"}).json()
    r = env.as_user("op2").put(f"/api/records/{draft['id']}", json={"note": "чужой"})
    assert r.status_code == 403
    assert r.json()["error_id"] == "not_your_record"


def test_megabyte_note_is_truncated_and_saved_not_refused(env: Env) -> None:
    c = env.as_user("op1")
    note = "не работает мобильный интернет " * 34_000
    sug = c.post("/api/records/suggest", json={"text": note})
    assert sug.status_code == 200
    assert sug.json()["note_truncated"] is True
    assert sug.json()["suggestions"][0]["code"] == "mobile_data"
    r = c.post(
        "/api/records", json={"note": note, "topics": ["mobile_data"], "outcome": "resolved", "finish": True}
    )
    assert r.status_code == 200
    assert r.json()["note_truncated"] is True
    assert len(r.json()["note"]) == 20_000


def test_suggestions_for_empty_emoji_digits_or_unrelated_notes_offer_other_first(env: Env) -> None:
    c = env.as_user("op1")
    for text in ("", "🙂🙂", "8 916 123 45 67", "我的手机没有信号", "хочу заказать пиццу"):
        out = c.post("/api/records/suggest", json={"text": text}).json()
        assert out["other_first"] is True, text


def test_supervisor_edits_the_topic_tree_and_an_archived_topic_keeps_its_history(env: Env) -> None:
    c = env.as_user("op1")
    old = c.post(
        "/api/records",
        json={
            "note": "не приходят смс",
            "topics": ["sms_problem"],
            "outcome": "resolved",
            "subscriber_id": "2",
            "reason": "callback",
            "finish": True,
        },
    ).json()
    assert (
        env.as_user("op1")
        .post(
            "/api/topics",
            json={"code": "esim", "name_ru": "eSIM", "name_en": "eSIM", "parent_code": "number_sim"},
        )
        .status_code
        == 403
    )
    s = env.as_user("sup")
    created = s.post(
        "/api/topics",
        json={"code": "esim", "name_ru": "eSIM", "name_en": "eSIM", "parent_code": "number_sim"},
    )
    assert created.status_code == 200
    assert created.json()["parent_code"] == "number_sim"
    dup = s.post("/api/topics", json={"code": "esim", "name_ru": "x", "name_en": "x"})
    assert dup.status_code == 409
    assert dup.json()["error_id"] == "topic_exists"
    deep = s.post(
        "/api/topics", json={"code": "esim_watch", "name_ru": "x", "name_en": "x", "parent_code": "esim"}
    )
    assert deep.status_code == 400
    assert deep.json()["error_id"] == "topic_too_deep"
    assert s.patch("/api/topics/esim", json={"name_en": "eSIM profiles"}).json()["name_en"] == "eSIM profiles"
    assert s.patch("/api/topics/sms_problem", json={"archived": True}).json()["archived"] is True
    assert s.patch("/api/topics/other", json={"archived": True}).json()["error_id"] == "topic_protected"
    tree = s.get("/api/topics").json()["tree"]
    number_sim = next(t for t in tree if t["code"] == "number_sim")
    assert "esim" in [ch["code"] for ch in number_sim["children"]]

    c = env.as_user("op1")
    env.container.records.topics.invalidate()
    sug = c.post("/api/records/suggest", json={"text": "не приходят смс от банка"}).json()
    assert "sms_problem" not in [x["code"] for x in sug["suggestions"]]
    assert sug["other_first"] is True
    r = c.post(
        "/api/records", json={"note": "смс", "topics": ["sms_problem"], "outcome": "resolved", "finish": True}
    )
    assert r.status_code == 400
    assert r.json()["error_id"] == "topic_archived"
    history = c.get("/api/records", params={"subscriber_id": "2"}).json()["records"]
    assert history[0]["id"] == old["id"]
    assert history[0]["topics"][0] == {
        "code": "sms_problem",
        "name_ru": "Проблемы с SMS",
        "name_en": "SMS problem",
        "archived": True,
        "suggested_rank": None,
        "source": "operator",
    }


def test_stats_count_requests_by_topic_per_hour_and_day_with_trend(env: Env) -> None:
    c = env.as_user("op1")
    now = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)
    plan = [
        ("roaming", now),
        ("roaming", now),
        ("mobile_data", now - timedelta(hours=2)),
        ("roaming", now - timedelta(hours=30)),
    ]  # the last one is in the previous 24 hours
    shown = [[{"code": "roaming", "confidence": 0.9}], [{"code": "no_network", "confidence": 0.6}], [], []]
    for (code, at), sh in zip(plan, shown, strict=True):
        body = {"note": "n", "topics": [code], "outcome": "resolved", "shown": sh, "finish": True}
        rid = c.post("/api/records", json=body).json()["id"]
        with env.container.db.session() as s:
            s.get(RequestRecord, rid).created_at = at  # type: ignore[union-attr]
    s = env.as_user("sup")
    hourly = s.get("/api/records/stats", params={"bucket": "hour"}).json()
    assert len(hourly["buckets"]) == 24
    assert hourly["total"] == 3
    assert hourly["previous_total"] == 1
    assert hourly["acceptance"] == {"rank1": 1, "rank2": 0, "rank3": 0, "overridden": 1, "none_shown": 1}
    roaming = next(x for x in hourly["series"] if x["code"] == "roaming")
    assert roaming["counts"][-1] == 2
    assert roaming["total"] == 2
    assert roaming["previous_total"] == 1
    assert roaming["trend"] == 1.0
    mobile = next(x for x in hourly["series"] if x["code"] == "mobile_data")
    assert mobile["counts"][-3] == 1
    assert mobile["trend"] is None
    daily = s.get("/api/records/stats", params={"bucket": "day"}).json()
    assert len(daily["buckets"]) == 14
    assert sum(x["total"] for x in daily["series"]) == 4
    bad = s.get("/api/records/stats", params={"bucket": "week"})
    assert bad.status_code == 400
    assert bad.json()["error_id"] == "bad_bucket"
    assert env.as_user("op1").get("/api/records/stats").status_code == 403


def test_emerging_cluster_shows_masked_examples_and_promotion_teaches_the_classifier(env: Env) -> None:
    c = env.as_user("op1")
    notes = [
        "не работает есим на часах, номер +7 916 123-45-67",
        "есим на часах не активируется",
        "часы с есим не видят сеть, Иванов Пётр",
        "есим на часах пропала связь",
        "на часах есим не подключается",
        "подключить есим на часы не выходит",
        "хочу заказать пиццу",
    ]
    for n in notes:
        r = c.post(
            "/api/records",
            json={"note": n, "topics": ["other"], "outcome": "callback", "finish": True, "abstained": True},
        )
        assert r.status_code == 200
    s = env.as_user("sup")
    clusters = s.post("/api/records/emerging/run").json()["clusters"]
    assert len(clusters) == 1
    cl = clusters[0]
    assert cl["size"] == 6
    assert "есим" in cl["keywords"]
    assert cl["recent"] == 6
    assert all("916" not in e and "Иванов" not in e for e in cl["examples"])
    assert s.get("/api/records/emerging").json()["clusters"][0]["id"] == cl["id"]

    out = s.post(
        f"/api/records/emerging/{cl['id']}/promote",
        json={
            "code": "esim_watch",
            "name_ru": "eSIM на часах",
            "name_en": "eSIM on watches",
            "parent_code": "number_sim",
            "retrain": False,
        },
    ).json()
    assert out["records"] == 6
    assert out["topic"]["code"] == "esim_watch"
    # the promoted requests count once, under the new topic: "other" keeps only the one left in free text
    stats = s.get("/api/records/stats", params={"bucket": "day"}).json()
    by_code = {x["code"]: x["total"] for x in stats["series"]}
    assert by_code["esim_watch"] == 6
    assert by_code["other"] == 1
    assert stats["total"] == 7
    assert sum(stats["records_per_bucket"]) == 7
    again = s.post(
        f"/api/records/emerging/{cl['id']}/promote", json={"code": "x2", "name_ru": "x", "name_en": "x"}
    )
    assert again.status_code == 409
    assert again.json()["error_id"] == "cluster_not_open"

    # a topic with a single record cannot be learnt yet, and must not block retraining
    s.post(
        "/api/topics",
        json={"code": "esim_card", "name_ru": "eSIM", "name_en": "eSIM", "parent_code": "number_sim"},
    )
    env.as_user("op1").post(
        "/api/records",
        json={"note": "перевыпустить esim", "topics": ["esim_card"], "outcome": "resolved", "finish": True},
    )
    s = env.as_user("sup")
    trained = s.post("/api/classifier/train").json()
    assert trained["accepted"] is True, trained["reason"]
    assert "esim_card" not in trained["metrics"]["per_topic"]
    sug = (
        env.as_user("op1")
        .post("/api/records/suggest", json={"text": "у абонента есим на часах не работает"})
        .json()
    )
    assert sug["suggestions"][0]["code"] == "esim_watch"
    assert sug["model_version"] == trained["version"]
