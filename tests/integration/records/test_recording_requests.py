"""An operator records requests over HTTP, on SQLite and on a real PostgreSQL: suggested topics, the card,
after-call work and timings, whose call it is, bad input, drafts, long notes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.integration.records.env import Env, add_call
from workstation.models import AuditLog
from workstation.records.models import RequestRecord


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
