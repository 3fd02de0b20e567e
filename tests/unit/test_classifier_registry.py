"""Model versions: a retrain learns a new topic, a worse model is refused, other nodes pick up the swap."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from classifier.data import Dataset, TrainingDataError, load_bootstrap
from classifier.registry import MIN_REAL_HOLDOUT, ModelRegistry

NEW_TOPIC = [
    "не работает есим на часах",
    "часы с esim не подключаются к сети",
    "активировать esim на смарт часах",
    "apple watch esim не видит сеть",
    "как подключить часы с есим к моему номеру",
    "eSIM для часов не активируется",
    "smartwatch esim activation fails",
    "my watch esim has no service",
    "есим в часах пропала связь",
    "подключить вторую есим для часов",
]


def base_data() -> Dataset:
    ds = load_bootstrap()
    return ds.subset(range(2500))


def with_new_topic(ds: Dataset) -> Dataset:
    out = ds.subset(range(len(ds)))
    rng = random.Random(3)
    for i in range(60):
        text = (
            rng.choice(["", "абонент говорит что ", "клиент: ", "caller: "]) + NEW_TOPIC[i % len(NEW_TOPIC)]
        )
        out.add(text + rng.choice(["", " просит помочь", " срочно"]), "esim_watch", {})
    return out


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> ModelRegistry:
    reg = ModelRegistry(tmp_path_factory.mktemp("models"))
    first = reg.train(base_data())
    assert first.accepted
    assert first.reason == "first model"
    return reg


def test_first_model_is_stored_versioned_and_current(registry: ModelRegistry) -> None:
    assert registry.version == 1
    assert (registry.dir / "model-0001.pkl").exists()
    assert registry.current_version_on_disk() == 1
    meta = registry.versions()[-1]
    assert meta["version"] == 1
    assert meta["accepted"]
    assert meta["metrics"]["top1"] > 0.85


def test_retrain_with_a_new_topic_learns_it_and_is_swapped_in(registry: ModelRegistry) -> None:
    before = registry.version
    result = registry.train(with_new_topic(base_data()))
    assert result.accepted, result.reason
    assert registry.version == result.version > before
    assert result.current_metrics is not None
    assert result.metrics["per_topic"]["esim_watch"]["recall"] >= 0.8
    assert result.current_metrics["per_topic"]["esim_watch"]["recall"] == 0.0
    assert registry.model is not None
    assert registry.model.predict("у клиента часы с есим не видят сеть").suggestions[0].code == "esim_watch"


def test_worse_model_is_refused_and_the_current_one_stays(registry: ModelRegistry) -> None:
    current_version, current_model = registry.version, registry.model
    # far fewer examples per topic: a weaker model, compared on the same held-out notes
    full = base_data()
    seen: dict[str, int] = {}
    keep = []
    for i, label in enumerate(full.labels):
        seen[label] = seen.get(label, 0) + 1
        if seen[label] <= 10:
            keep.append(i)
    result = registry.train(full.subset(keep))
    assert not result.accepted
    assert result.reason.startswith(f"worse than v{current_version}")
    assert registry.version == current_version
    assert registry.model is current_model
    assert registry.current_version_on_disk() == current_version
    refused = next(v for v in registry.versions() if v["version"] == result.version)
    assert refused["accepted"] is False
    assert refused["current"] is False


def test_another_node_picks_up_the_new_current_version_without_restart(registry: ModelRegistry) -> None:
    other = ModelRegistry(registry.dir)
    assert other.refresh() is True
    assert other.version == registry.version
    assert other.refresh() is False  # nothing new
    assert other.model is not None
    assert other.model.topic_classes == registry.model.topic_classes


def test_training_data_with_one_topic_is_refused_before_training(tmp_path: Path) -> None:
    ds = Dataset()
    for i in range(10):
        ds.add(f"нет сети {i}", "no_network")
    with pytest.raises(TrainingDataError, match="training needs at least 2"):
        ModelRegistry(tmp_path).train(ds)
    assert not list(tmp_path.glob("model-*"))


# notes as the floor writes them (not from the templates); the held-out slice of real records
REAL_SMS = [
    "смс с кодом от банка не доходят",
    "не получает sms подтверждения",
    "сообщения не отправляются пишет ошибка",
    "коды из приложений не приходят по смс",
    "смс от госуслуг не приходит",
    "не доходят смс на номер",
    "sms не уходят собеседнику",
    "входящие смс пропали",
    "смс приходят пустые",
    "не приходят сообщения с кодами",
]
REAL_ROAMING = [
    "за границей нет связи в турции",
    "в египте не ловит сеть",
    "роуминг в грузии не работает",
    "в поездке по европе нет интернета",
    "в казахстане не может позвонить",
    "в таиланде не работает связь",
    "роуминг не подключился в оаэ",
    "в испании нет сети на телефоне",
    "улетел в китай связи нет",
    "в армении телефон не ловит",
]


def real_holdout() -> Dataset:
    ds = Dataset(source="held-out records")
    for a, b in zip(REAL_SMS, REAL_ROAMING, strict=True):
        for prefix in ("", "аб: "):
            ds.add(prefix + a, "sms_problem", {}, 3.0)
            ds.add(prefix + b, "roaming", {}, 3.0)
    return ds


def test_retrained_model_worse_on_real_records_is_refused(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    holdout = real_holdout()
    assert len(holdout) >= MIN_REAL_HOLDOUT
    first = reg.train(base_data(), holdout=holdout, force=True)
    assert first.metrics["compared_on"] == "held-out real records"
    good = first.metrics["top1"]
    assert good >= 0.6
    # records labelled the wrong way round weigh heavily in the candidate's training data: it still
    # fits the bootstrap corpus, but on the floor's own held-out notes it is worse
    poisoned = base_data()
    for a, b in zip(REAL_SMS, REAL_ROAMING, strict=True):
        poisoned.add("абонент: " + a, "roaming", {}, 3.0)
        poisoned.add("абонент: " + b, "sms_problem", {}, 3.0)
    result = reg.train(poisoned, holdout=holdout)
    assert not result.accepted, result.metrics
    assert result.metrics["top1"] < good
    assert result.current_metrics is not None
    assert result.current_metrics["top1"] == good  # the current model, on the same held-out records
    assert result.reason.startswith("worse than v1")
    assert reg.version == 1
    assert reg.current_version_on_disk() == 1


def test_abstention_thresholds_are_tuned_on_notes_no_template_made(registry: ModelRegistry) -> None:
    model = registry.model
    assert model is not None
    # without held-out records, the hand-written tuning half shipped with the classifier
    assert model.abstention.tuned_on == "heldout-ru-tune"
    assert registry.versions()[0]["model"]["abstention"]["tuned_on"] == "heldout-ru-tune"
