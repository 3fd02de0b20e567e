"""A compiled inference path for one note at a time (the suggestion-while-typing hot path).

scikit-learn's per-call validation costs milliseconds for a single short text; this module reproduces,
with plain dictionaries and numpy, exactly what the fitted vectorizers, the linear SVM and the shared
sigmoid calibration compute, so one suggestion costs well under a millisecond of model time. ``TopicModel``
checks it against the matrix path on its validation rows at training time.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np

# novelty: mean cosine similarity to this many nearest reference examples (steadier than the single nearest)
NOVELTY_K = 3


def nearest_mean(sims: np.ndarray) -> np.ndarray:
    """Mean of the ``NOVELTY_K`` largest similarities along the last axis."""
    k = min(NOVELTY_K, sims.shape[-1])
    if k == 0:
        return np.zeros(sims.shape[:-1])
    return np.asarray(np.partition(sims, -k, axis=-1)[..., -k:].mean(axis=-1))


class FastVectorizer:
    """Term counts → sublinear tf × idf → L2 for one text, as sparse (indices, values)."""

    def __init__(self, vectorizer: Any):
        self.analyzer = vectorizer.build_analyzer()
        self.vocab: dict[str, int] = vectorizer.vocabulary_  # shared with the vectorizer, not copied
        self.idf = vectorizer.idf_

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(self.analyzer(text))
        vocab = self.vocab
        idx = [vocab[t] for t in counts if t in vocab]
        if not idx:
            return np.empty(0, dtype=np.int64), np.empty(0)
        tf = np.fromiter(
            (1.0 + math.log(c) for t, c in counts.items() if t in vocab), dtype=np.float64, count=len(idx)
        )
        ind = np.asarray(idx, dtype=np.int64)
        val = tf * self.idf[ind]
        val /= np.sqrt((val * val).sum())
        return ind, val


class FastScorer:
    """Calibrated class probabilities and novelty similarity for one normalised note."""

    def __init__(
        self,
        featurizer: Any,
        coef_t: np.ndarray,
        intercept: np.ndarray,
        cal_a: float,
        cal_b: float,
        reference_t: Any,
        context_weight: float,
    ):
        self.word = FastVectorizer(featurizer.word)
        self.char = FastVectorizer(featurizer.char)
        self.n_word = len(self.word.vocab)
        self.n_char = len(featurizer.char.vocabulary_)
        self.context_weight = context_weight
        # rows of the features × classes weight matrix (the model's own array) are looked up by index
        self.coef_t = coef_t
        self.intercept = intercept
        self.cal_a, self.cal_b = cal_a, cal_b
        self.reference_t = reference_t

    def score(self, norm_text: str, ctx: np.ndarray) -> tuple[np.ndarray, float]:
        wi, wv = self.word.vector(norm_text)
        ci, cv = self.char.vector(norm_text)
        ci = ci + self.n_word
        base = self.n_word + self.n_char
        nz = np.flatnonzero(ctx)
        ind = np.concatenate([wi, ci, base + nz])
        val = np.concatenate([wv, cv, ctx[nz] * self.context_weight])
        decision = val @ self.coef_t[ind] + self.intercept
        proba = 1.0 / (1.0 + np.exp(self.cal_a * decision + self.cal_b))
        total = proba.sum()
        proba = proba / total if total > 0 else proba
        # novelty: cosine to the nearest reference example over the text blocks
        tind = np.concatenate([wi, ci])
        if len(tind) == 0:
            return proba, 0.0
        tval = np.concatenate([wv, cv])
        tval = tval / math.sqrt(float((tval * tval).sum()))
        sims = gather_dot(self.reference_t, tind, tval)
        return proba, float(nearest_mean(sims)) if len(sims) else 0.0


def gather_dot(rows_by_feature: Any, ind: np.ndarray, val: np.ndarray) -> np.ndarray:
    """``rows_by_feature[ind].T @ val`` for a CSR matrix (features × rows), without building the
    sliced matrix: the stored entries of the wanted features, weighted and summed per row."""
    indptr = rows_by_feature.indptr
    starts, lens = indptr[ind], indptr[ind + 1] - indptr[ind]
    total = int(lens.sum())
    if total == 0:
        return np.zeros(rows_by_feature.shape[1])
    # positions starts[i] .. starts[i] + lens[i] - 1 of every feature i, concatenated
    pos = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(total)
    weights = rows_by_feature.data[pos] * np.repeat(val, lens)
    return np.bincount(rows_by_feature.indices[pos], weights=weights, minlength=rows_by_feature.shape[1])
