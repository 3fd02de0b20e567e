"""The refining stage: sentence embeddings + logistic regression, fused with the sparse model.

The sparse model (``classifier.model``) answers every keystroke in about a millisecond. At a typing pause
the operator's screen asks again with ``refine``; then the note is also embedded (multilingual-e5-small,
``classifier.embeddings``, 20–30 ms on one core) and this stage's probabilities are fused with the sparse
ones (a weighted geometric mean: each model vetoes what it finds implausible). The two see different
things: character n-grams catch typos and word forms, the embedding catches paraphrases no template had.

Its abstention uses the fused probabilities and novelty measured in embedding space (mean cosine
similarity to the nearest training notes), with its own thresholds (``classifier.abstain``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression

from classifier.abstain import Abstention
from classifier.fast import nearest_mean
from classifier.topics import OUT_OF_SCOPE

# inverse regularisation of the logistic regression over embeddings (chosen on the tuning half)
DENSE_C = 4.0
# weight of the embedding model's log-probabilities in the fusion (the sparse model has 1 - this)
FUSION_WEIGHT = 0.5
# training notes kept (as float16) to measure novelty in embedding space
REFERENCE_ROWS = 3000
_EPS = 1e-9


@dataclass
class RefinedStage:
    encoder_name: str
    classes_: list[str]
    coef_t: np.ndarray  # dim × classes, float32
    intercept: np.ndarray
    reference_t: np.ndarray  # dim × rows, float16
    abstention: Abstention = field(default_factory=Abstention)
    fusion_weight: float = FUSION_WEIGHT

    @classmethod
    def fit(
        cls,
        vectors: np.ndarray,
        labels: Sequence[str],
        classes: list[str],
        encoder_name: str,
        weights: Sequence[float] | None = None,
        seed: int = 0,
    ) -> RefinedStage:
        """Fit on embeddings of the training notes; ``classes`` is the sparse model's class order."""
        y = np.asarray(labels)
        lr = LogisticRegression(C=DENSE_C, max_iter=2000, random_state=seed)
        lr.fit(vectors, y, sample_weight=None if weights is None else np.asarray(weights, dtype=float))
        learnt = [str(c) for c in lr.classes_]
        coef = np.zeros((len(classes), vectors.shape[1]), dtype=np.float32)
        intercept = np.full(len(classes), -30.0, dtype=np.float32)  # a class it never saw: ~0 probability
        for i, c in enumerate(learnt):
            row = classes.index(c)
            if len(learnt) == 2:  # binary: one score, class 1 gets +d
                sign = 1.0 if i == 1 else -1.0
                coef[row], intercept[row] = sign * lr.coef_[0], sign * lr.intercept_[0]
            else:
                coef[row], intercept[row] = lr.coef_[i], lr.intercept_[i]
        keep = np.flatnonzero(y != OUT_OF_SCOPE)
        if len(keep) > REFERENCE_ROWS:
            keep = np.random.default_rng(seed).choice(keep, REFERENCE_ROWS, replace=False)
        return cls(
            encoder_name,
            list(classes),
            np.ascontiguousarray(coef.T),
            intercept,
            np.ascontiguousarray(vectors[keep].T.astype(np.float16)),
        )

    def dense_proba(self, vectors: np.ndarray) -> np.ndarray:
        z = np.atleast_2d(vectors) @ self.coef_t + self.intercept
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True))

    def fuse(self, sparse_proba: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """Weighted geometric mean of the two stages' probabilities, renormalised."""
        a = self.fusion_weight
        logp = (1 - a) * np.log(np.atleast_2d(sparse_proba) + _EPS) + a * np.log(
            self.dense_proba(vectors) + _EPS
        )
        logp -= logp.max(axis=1, keepdims=True)
        p = np.exp(logp)
        return np.asarray(p / p.sum(axis=1, keepdims=True))

    def novelty(self, vectors: np.ndarray) -> np.ndarray:
        """Mean cosine similarity to the nearest training notes in embedding space."""
        if self.reference_t.shape[1] == 0:
            return np.zeros(len(np.atleast_2d(vectors)))
        ref = self.__dict__.get("_reference32")
        if ref is None:  # stored as float16, computed on as float32 (converted once per process)
            ref = self.__dict__["_reference32"] = self.reference_t.astype(np.float32)
        return nearest_mean(np.atleast_2d(vectors).astype(np.float32) @ ref)

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "_reference32"}
