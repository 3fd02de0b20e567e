"""Evaluation: the figures every model version, the CLI and the benchmark report, with the same names.

* ``top1``, ``top3``, ``macro_f1``, ``per_topic``: ranking quality on in-scope test rows (label is a topic
  the model was trained on), ignoring abstention;
* ``abstain_rate``: share of all test rows on which the free-text path is offered first;
* ``in_scope_accuracy``: top-1 accuracy on the in-scope rows the model did not abstain on;
* ``oos_recall``: share of out-of-scope rows (labelled ``out_of_scope``, or with a label never seen in
  training) the model abstained on; ``None`` when the test set has none.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_fscore_support

from classifier.abstain import curve
from classifier.data import Dataset
from classifier.embeddings import Encoder
from classifier.features import normalise
from classifier.model import Prediction, TopicModel
from classifier.topics import OUT_OF_SCOPE

TEST_SHARE = 0.2


def bucket(text: str) -> float:
    """A stable number in [0, 1) for a note (a hash of its normalised text)."""
    digest = hashlib.blake2b(normalise(text).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def split(ds: Dataset, test_share: float = TEST_SHARE) -> tuple[Dataset, Dataset]:
    """Held-out split by a hash of the normalised note: a note lands on the same side in every retrain,
    so the current model never saw the rows a candidate is compared on, and duplicates never straddle
    the split. Each label keeps at least two training rows."""
    test = [bucket(t) < test_share for t in ds.texts]
    train_count: dict[str, int] = {}
    for lab, is_test in zip(ds.labels, test, strict=True):
        if not is_test:
            train_count[lab] = train_count.get(lab, 0) + 1
    for i, lab in enumerate(ds.labels):
        if test[i] and train_count.get(lab, 0) < 2:
            test[i] = False
            train_count[lab] = train_count.get(lab, 0) + 1
    return (
        ds.subset([i for i, x in enumerate(test) if not x]),
        ds.subset([i for i, x in enumerate(test) if x]),
    )


class Ranker(Protocol):
    def predict_batch(self, texts: list[str], contexts: Any = None, k: int = 3) -> list[Prediction]: ...


class Refined:
    """A model's refined stage (sentence embeddings fused with the sparse model) as a ``Ranker``."""

    def __init__(self, model: TopicModel, encoder: Encoder):
        self.model, self.encoder = model, encoder

    def predict_batch(self, texts: list[str], contexts: Any = None, k: int = 3) -> list[Prediction]:
        return self.model.predict_batch(texts, contexts, k, encoder=self.encoder)


def evaluate(model: Ranker, test: Dataset, trained_topics: list[str]) -> dict[str, Any]:
    """All figures for ``model`` on ``test``; ``trained_topics`` are the topics the model knows."""
    known = set(trained_topics)
    preds = model.predict_batch(test.texts, test.contexts, k=3)
    gold = np.asarray(test.labels)
    inscope = np.asarray([lab in known for lab in test.labels])
    oos = ~inscope
    top1 = np.asarray(
        [bool(p.suggestions) and p.suggestions[0].code == g for p, g in zip(preds, gold, strict=True)]
    )
    top3 = np.asarray([g in [s.code for s in p.suggestions[:3]] for p, g in zip(preds, gold, strict=True)])
    abstain = np.asarray([p.abstain for p in preds])
    pred1 = np.asarray([p.suggestions[0].code if p.suggestions else OUT_OF_SCOPE for p in preds])
    labels = sorted(known)
    out: dict[str, Any] = {
        "test_rows": len(gold),
        "in_scope_rows": int(inscope.sum()),
        "oos_rows": int(oos.sum()),
    }
    if inscope.any():
        out["top1"] = round(float(top1[inscope].mean()), 4)
        out["top3"] = round(float(top3[inscope].mean()), 4)
        out["macro_f1"] = round(
            float(f1_score(gold[inscope], pred1[inscope], labels=labels, average="macro", zero_division=0)), 4
        )
        p, r, f, s = precision_recall_fscore_support(
            gold[inscope], pred1[inscope], labels=labels, zero_division=0
        )
        out["per_topic"] = {
            lab: {
                "precision": round(float(p[i]), 3),
                "recall": round(float(r[i]), 3),
                "f1": round(float(f[i]), 3),
                "support": int(s[i]),
            }
            for i, lab in enumerate(labels)
        }
        kept = inscope & ~abstain
        out["in_scope_accuracy"] = round(float(top1[kept].mean()), 4) if kept.any() else None
        out["in_scope_abstain_rate"] = round(float(abstain[inscope].mean()), 4)
    else:
        out.update(top1=None, top3=None, macro_f1=None, per_topic={}, in_scope_accuracy=None)
    out["abstain_rate"] = round(float(abstain.mean()), 4) if len(gold) else None
    out["oos_recall"] = round(float(abstain[oos].mean()), 4) if oos.any() else None
    return out


def halves(ds: Dataset) -> tuple[Dataset, Dataset]:
    """Two halves of ``ds`` by a hash of each note (for tuning on one and reporting on the other)."""
    a = [i for i, t in enumerate(ds.texts) if bucket("half:" + t) < 0.5]
    b = [i for i, t in enumerate(ds.texts) if bucket("half:" + t) >= 0.5]
    return ds.subset(a), ds.subset(b)


def tradeoff(
    model: TopicModel, test: Dataset, tune_on: Dataset | None = None, encoder: Encoder | None = None
) -> list[dict[str, Any]]:
    """The abstention trade-off curve (``classifier.abstain.curve``): thresholds tuned on ``tune_on`` for
    each ceiling of false "Other", figures on ``test``. Without ``tune_on``, two-fold over ``test``: tuned
    on one half, measured on the other, both ways, figures averaged."""
    known = set(model.topic_classes)

    def side(tune_ds: Dataset, test_ds: Dataset) -> list[dict[str, Any]]:
        return curve(
            model.signals(tune_ds.texts, tune_ds.contexts, encoder),
            np.asarray([lab in known for lab in tune_ds.labels]),
            model.signals(test_ds.texts, test_ds.contexts, encoder),
            np.asarray([lab in known for lab in test_ds.labels]),
        )

    if tune_on is not None:
        return side(tune_on, test)
    a, b = halves(test)
    out = []
    for x, y in zip(side(a, b), side(b, a), strict=True):
        point: dict[str, Any] = {"target_false_other": x["target_false_other"]}
        for key in ("false_other", "oos_recall"):
            vals = [v for v in (x[key], y[key]) if v is not None]
            point[key] = round(sum(vals) / len(vals), 4) if vals else None
        out.append(point)
    return out


def train_and_evaluate(
    train: Dataset,
    test: Dataset,
    seed: int = 0,
    tune_on: Dataset | None = None,
    encoder: Encoder | None = None,
) -> tuple[TopicModel, dict[str, Any]]:
    """Train on ``train``; figures on ``test`` for the sparse stage and, with ``encoder``, the refined
    one; thresholds tuned on ``tune_on`` (else on half of ``test``, reported on the other half), with the
    whole trade-off curve of each stage."""
    model = TopicModel().fit(train.texts, train.labels, train.contexts, seed=seed)
    if encoder is not None:
        model.fit_refined(train.texts, train.labels, encoder, seed=seed)
    report_on, tune_ds = (test, tune_on) if tune_on is not None else halves(test)[::-1]
    model.tune_abstention(tune_ds.texts, tune_ds.labels, tune_ds.contexts, encoder=encoder)
    out = evaluate(model, report_on, model.topic_classes)
    out["tradeoff"] = tradeoff(model, test, tune_on)
    out["abstention"] = model.abstention.to_dict()
    if encoder is not None and model.refined is not None:
        refined = evaluate(Refined(model, encoder), report_on, model.topic_classes)
        refined["tradeoff"] = tradeoff(model, test, tune_on, encoder)
        refined["abstention"] = model.refined.abstention.to_dict()
        out["refined"] = refined
    out["abstention_tuned_on"] = "--tune file" if tune_on is not None else "half of the test rows"
    out["reported_on_rows"] = len(report_on)
    return model, out


def not_worse(new: dict[str, Any], old: dict[str, Any], tolerance: float = 0.005) -> bool:
    """The acceptance rule of a retrained model: top-1 and macro-F1 no lower than the current model's on
    the same held-out rows (within ``tolerance``)."""
    for key in ("top1", "macro_f1"):
        if new.get(key) is None:
            return False
        if old.get(key) is not None and new[key] < old[key] - tolerance:
            return False
    return True


class BaselineModel:
    """A plain TF-IDF (words) + logistic regression baseline, for comparison in the benchmark.
    It offers "Other" first when its most probable class is ``out_of_scope``."""

    def __init__(self) -> None:
        self.vec = TfidfVectorizer()
        self.clf = LogisticRegression(max_iter=1000)

    def fit(self, ds: Dataset) -> BaselineModel:
        self.clf.fit(self.vec.fit_transform(ds.texts), ds.labels)
        self.classes_ = [str(c) for c in self.clf.classes_]
        return self

    def predict_batch(self, texts: list[str], contexts: Any = None, k: int = 3) -> list[Prediction]:
        return ranked_predictions(self.clf.predict_proba(self.vec.transform(texts)), self.classes_, k)


class EmbeddingBaseline:
    """Logistic regression over sentence embeddings (scikit-learn defaults), the second baseline."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.clf = LogisticRegression(max_iter=2000)

    def fit(self, ds: Dataset) -> EmbeddingBaseline:
        self.clf.fit(self.encoder.encode([normalise(t) for t in ds.texts]), ds.labels)
        self.classes_ = [str(c) for c in self.clf.classes_]
        return self

    def predict_batch(self, texts: list[str], contexts: Any = None, k: int = 3) -> list[Prediction]:
        vectors = self.encoder.encode([normalise(t) for t in texts])
        return ranked_predictions(self.clf.predict_proba(vectors), self.classes_, k)


def ranked_predictions(probs: np.ndarray, classes: list[str], k: int) -> list[Prediction]:
    """Predictions from a probability matrix: top-``k`` topics; "Other" first when out-of-scope wins."""
    from classifier.model import Suggestion

    out = []
    for row in probs:
        order = [i for i in np.argsort(-row) if classes[i] != OUT_OF_SCOPE][:k]
        out.append(
            Prediction(
                [Suggestion(classes[i], float(row[i])) for i in order],
                classes[int(np.argmax(row))] == OUT_OF_SCOPE,
            )
        )
    return out
