"""What supervisors do with the records over HTTP, on SQLite and on a real PostgreSQL: the topic tree and its
history, request statistics per hour and day, emerging clusters promoted into the classifier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.integration.records.env import Env
from workstation.records.models import RequestRecord


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
