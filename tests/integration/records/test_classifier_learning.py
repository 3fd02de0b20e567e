"""Learning from the floor on SQLite and PostgreSQL: finished records become scrubbed training data,
real records weigh over the bootstrap corpus, and supervisors see where operators override."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from classifier.topics import OUT_OF_SCOPE
from tests.integration.records.env import Env
from workstation.records import training_store
from workstation.records.models import TrainingExample


def finish(env: Env, note: str, topics: list[str], shown: list[str] | None = None, **extra: Any) -> int:
    body = {
        "note": note,
        "topics": topics,
        "outcome": "resolved",
        "finish": True,
        "shown": [{"code": c, "confidence": 0.5} for c in shown or []],
        **extra,
    }
    r = env.as_user("op1").post("/api/records", json=body)
    assert r.status_code == 200, r.text
    return int(r.json()["id"])


def examples(env: Env) -> dict[int, TrainingExample]:
    with env.container.db.session() as s:
        rows = s.scalars(select(TrainingExample)).all()
        s.expunge_all()
        return {r.record_id: r for r in rows}


def test_a_finished_record_becomes_scrubbed_training_data(env: Env) -> None:
    rid = finish(env, "Иванов Пётр, тел +7 916 123-45-67: смс от банка не приходят неделю", ["sms_problem"])
    # a record still being typed is not a label yet
    open_id = env.as_user("op1").post("/api/records", json={"note": "не приходят смс"}).json()["id"]
    stored = examples(env)
    assert set(stored) == {rid}
    assert open_id not in stored
    ex = stored[rid]
    assert ex.label == "sms_problem"
    assert "916" not in ex.text
    assert "Иванов" not in ex.text
    assert "[PHONE]" in ex.text
    assert "смс от банка не приходят" in ex.text
    data, holdout = env.container.records.classifier.training_dataset()
    both = list(zip(data.texts, data.labels, strict=True)) + list(
        zip(holdout.texts, holdout.labels, strict=True)
    )
    assert (ex.text, "sms_problem") in both
    assert not any("916" in t for t in data.texts + holdout.texts)


def test_other_is_learnt_as_out_of_scope_and_a_promoted_topic_relabels_it(env: Env) -> None:
    rid = finish(env, "хочет заказать пиццу", ["other"])
    assert examples(env)[rid].label == OUT_OF_SCOPE
    with env.container.db.session() as s:
        from workstation.records.models import RecordTopic, RequestRecord, Topic

        rec = s.get(RequestRecord, rid)
        topic = s.scalar(select(Topic).where(Topic.code == "complaint_quality"))
        assert rec is not None
        assert topic is not None
        rec.topics.append(RecordTopic(topic_id=topic.id, position=1, source="promoted"))
    assert training_store.sync(env.container.db) == 1
    assert examples(env)[rid].label == "complaint_quality"


def test_real_records_outweigh_the_fading_bootstrap_corpus(env: Env) -> None:
    svc = env.container.records.classifier
    data, _ = svc.training_dataset()
    assert set(data.row_weights()) == {1.0}  # no records yet: the bootstrap corpus at full weight
    for i in range(12):
        finish(env, f"вопрос по бонусам номер {i}", ["balance_question"])
    data, holdout = svc.training_dataset()
    weights = dict(zip(data.texts, data.row_weights(), strict=True))
    real = [w for t, w in weights.items() if t.startswith("вопрос по бонусам")]
    boot = [w for t, w in weights.items() if not t.startswith("вопрос по бонусам")]
    assert len(real) + len(holdout) == 12
    assert set(real) == {training_store.REAL_WEIGHT}
    assert max(boot) == training_store.bootstrap_weight(12) < 1.0
    assert training_store.bootstrap_weight(10_000) < 0.1


def test_supervisor_sees_per_topic_where_operators_override_the_suggestion(env: Env) -> None:
    finish(env, "инет не грузит", ["mobile_data"], shown=["mobile_data", "no_network"])
    finish(env, "нет сети в деревне", ["no_network"], shown=["mobile_data", "no_network"])
    finish(env, "сеть пропала", ["no_network"], shown=["mobile_data", "roaming"])
    finish(env, "сеть пропадает", ["no_network"], shown=["no_network"])
    finish(env, "что-то непонятное", ["no_network"])  # nothing was shown
    assert env.as_user("op1").get("/api/classifier/overrides").status_code == 403
    out = env.as_user("sup").get("/api/classifier/overrides").json()
    by = {x["code"]: x for x in out["topics"]}
    nn = by["no_network"]
    counts = (nn["records"], nn["accepted_first"], nn["overridden"], nn["found_lower"], nn["none_shown"])
    assert counts == (4, 1, 2, 1, 1)
    assert nn["override_rate"] == round(2 / 3, 3)  # of the 3 records that were shown suggestions
    assert nn["suggested_instead"] == [
        {"code": "mobile_data", "name_ru": "Мобильный интернет", "name_en": "Mobile data", "count": 2}
    ]
    assert by["mobile_data"]["override_rate"] == 0.0
    assert out["topics"][0]["code"] == "no_network"  # the most overridden topic first


def test_retraining_is_due_after_enough_new_records_and_the_new_model_learns_them(env: Env) -> None:
    svc = env.container.records.classifier
    svc.retrain_after_records = 3
    assert svc.retrain_due() is None  # the shipped model, nothing new on the floor
    for i in range(3):
        finish(env, f"списали за подписку номер {i}", ["billing_dispute"])
    assert svc.retrain_due() == "3 new labelled records"
    result = svc.train()
    assert result.accepted, result.reason
    assert result.extra["real_examples"] == 3
    assert svc.retrain_due() is None  # the new model is newer than every example
