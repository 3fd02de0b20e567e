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

from classifier.data import Dataset
from classifier.features import normalise
from classifier.model import Prediction, TopicModel
from classifier.topics import OUT_OF_SCOPE

TEST_SHARE = 0.2


def _bucket(text: str) -> float:
    digest = hashlib.blake2b(normalise(text).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def split(ds: Dataset, test_share: float = TEST_SHARE) -> tuple[Dataset, Dataset]:
    """Held-out split by a hash of the normalised note: a note lands on the same side in every retrain,
    so the current model never saw the rows a candidate is compared on, and duplicates never straddle
    the split. Each label keeps at least two training rows."""
    test = [_bucket(t) < test_share for t in ds.texts]
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
        "test_rows": int(len(gold)),
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


def train_and_evaluate(train: Dataset, test: Dataset, seed: int = 0) -> tuple[TopicModel, dict[str, Any]]:
    model = TopicModel().fit(train.texts, train.labels, train.contexts, seed=seed)
    return model, evaluate(model, test, model.topic_classes)


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
    """A plain TF-IDF (words) + logistic regression baseline, for comparison in the benchmark."""

    def __init__(self) -> None:
        self.vec = TfidfVectorizer()
        self.clf = LogisticRegression(max_iter=1000)

    def fit(self, ds: Dataset) -> BaselineModel:
        self.clf.fit(self.vec.fit_transform(ds.texts), ds.labels)
        self.classes_ = [str(c) for c in self.clf.classes_]
        return self

    def predict_batch(self, texts: list[str], contexts: Any = None, k: int = 3) -> list[Prediction]:
        from classifier.model import Suggestion

        probs = self.clf.predict_proba(self.vec.transform(texts))
        out = []
        for row in probs:
            order = [i for i in np.argsort(-row) if self.classes_[i] != OUT_OF_SCOPE][:k]
            out.append(
                Prediction(
                    [Suggestion(self.classes_[i], float(row[i])) for i in order],
                    self.classes_[int(np.argmax(row))] == OUT_OF_SCOPE,
                )
            )
        return out
