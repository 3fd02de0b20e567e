"""The topic model: word + character n-gram TF-IDF and card context → calibrated linear classifier,
with an out-of-scope detector that decides when to offer the free-text "Other" path first.

A linear model alone almost never says "none of these", so abstention combines three signals, with
thresholds tuned on a validation split held out of the training data:

* the explicit ``out_of_scope`` class, when the training data has rows labelled so;
* the calibrated probability of the best topic (low → no topic is confident);
* novelty: the mean cosine similarity between the note and its 3 nearest training examples (low → the note
  looks like nothing the model was trained on, e.g. a new kind of request), unless the best topic's
  probability is at least ``NOVELTY_CONFIDENCE_CAP`` (a short note phrased unlike the examples).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.svm import LinearSVC

from classifier.fast import FastScorer, nearest_mean
from classifier.features import context_matrix, has_letters, normalise
from classifier.topics import OUT_OF_SCOPE

log = logging.getLogger(__name__)

# weight of the context block beside the two L2-normalised TF-IDF blocks
CONTEXT_WEIGHT = 0.5
# validation share used to tune abstention thresholds
VALIDATION_SHARE = 0.12
# at most this many training rows are kept as the novelty reference set (bounds suggestion latency)
NOVELTY_REFERENCE_ROWS = 3000
# in-scope validation rows we accept to send to free text by mistake (quantile of each signal)
FALSE_ABSTAIN_QUANTILE = 0.03
# a note unlike any training example is still suggested normally when the model is this sure of a topic
NOVELTY_CONFIDENCE_CAP = 0.95
# topics with fewer training rows are repeated up to this count
MIN_CLASS_ROWS = 8


@dataclass(frozen=True)
class Suggestion:
    code: str
    confidence: float


@dataclass
class Prediction:
    """Ranked topic suggestions; ``abstain`` means the free-text "Other" path goes first."""

    suggestions: list[Suggestion]
    abstain: bool
    reason: str | None = None  # empty | no_letters | out_of_scope | low_confidence | novel
    novelty_similarity: float = 0.0


class Featurizer:
    """Word (1–2) and character (2–4, within word bounds) TF-IDF plus the context block."""

    def __init__(self, max_char_features: int | None = 300_000):
        self.word = TfidfVectorizer(
            analyzer="word",
            ngram_range=(1, 2),
            sublinear_tf=True,
            min_df=1,
            token_pattern=r"(?u)\b\w+\b",
            dtype=np.float32,
        )
        self.char = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 4),
            sublinear_tf=True,
            min_df=2,
            max_features=max_char_features,
            dtype=np.float32,
        )

    def fit_blocks(self, texts: Sequence[str]) -> tuple[Any, Any]:
        """Fit both vectorizers; the word and character blocks of ``texts``."""
        return self.word.fit_transform(texts), self.char.fit_transform(texts)

    def transform(self, texts: Sequence[str], ctx: np.ndarray) -> sp.csr_matrix:
        return self.stack(self.word.transform(texts), self.char.transform(texts), ctx)

    def text_only(self, texts: Sequence[str]) -> sp.csr_matrix:
        """L2-normalised text vector (for novelty similarity)."""
        m = sp.hstack([self.word.transform(texts), self.char.transform(texts)], format="csr")
        return _l2(m)

    @staticmethod
    def stack(w: Any, c: Any, ctx: np.ndarray) -> sp.csr_matrix:
        return sp.hstack([w, c, sp.csr_matrix(ctx * CONTEXT_WEIGHT, dtype=np.float32)], format="csr")


def _upsample_rare(
    texts: list[str], y: np.ndarray, ctx: np.ndarray
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Repeat the rows of topics with fewer than ``MIN_CLASS_ROWS`` examples (a topic just promoted from
    a small cluster) so the validation split and calibration folds all see it."""
    extra: list[int] = []
    for label, count in zip(*np.unique(y, return_counts=True), strict=True):
        if count < MIN_CLASS_ROWS:
            rows = np.flatnonzero(y == label)
            extra += [int(rows[i % count]) for i in range(MIN_CLASS_ROWS - count)]
    if not extra:
        return texts, y, ctx
    return texts + [texts[i] for i in extra], np.concatenate([y, y[extra]]), np.vstack([ctx, ctx[extra]])


def _l2(m: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ m)


@dataclass
class TopicModel:
    """Fit with ``fit``; ``predict`` one note; ``rank_batch`` / ``abstain_batch`` for evaluation."""

    featurizer: Featurizer = field(default_factory=Featurizer)
    classes_: list[str] = field(default_factory=list)
    prob_threshold: float = 0.0
    novelty_threshold: float = 0.0
    train_rows: int = 0
    train_seconds: float = 0.0
    coef: Any = None  # classes × features (linear SVM weights)
    intercept: Any = None
    cal_a: float = -1.0  # shared sigmoid calibration: p = 1 / (1 + exp(a·decision + b)), then normalised
    cal_b: float = 0.0
    reference: Any = None  # L2-normalised text vectors of up to NOVELTY_REFERENCE_ROWS training rows
    reference_t: Any = None
    fast: FastScorer | None = None

    # ---- training -------------------------------------------------------------------------------------
    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        contexts: Sequence[Mapping[str, Any] | None] | None = None,
        seed: int = 0,
    ) -> TopicModel:
        """Train on notes, labels (topic codes, optionally ``out_of_scope``) and card contexts."""
        started = time.perf_counter()
        norm = [normalise(t) for t in texts]
        ctx = context_matrix(contexts, len(norm))
        y = np.asarray(labels)
        norm, y, ctx = _upsample_rare(norm, y, ctx)
        idx = np.arange(len(norm))
        strat = y
        tr, va = train_test_split(idx, test_size=VALIDATION_SHARE, random_state=seed, stratify=strat)
        # calibration and thresholds come from rows the deployed model never saw (no refit shifts them)
        self._fit_core([norm[i] for i in tr], y[tr], ctx[tr], seed)
        va_texts = [norm[i] for i in va]
        blocks = (self.featurizer.word.transform(va_texts), self.featurizer.char.transform(va_texts))
        decision = self.decision(self.featurizer.stack(*blocks, ctx[va]))
        self._calibrate(decision, y[va])
        self._tune(self._proba_from(decision), self._sims_from(*blocks), y[va])
        self._compile([norm[i] for i in va[:50]], ctx[va[:50]])
        self.train_rows = len(norm)
        self.train_seconds = time.perf_counter() - started
        return self

    def _fit_core(self, texts: list[str], y: np.ndarray, ctx: np.ndarray, seed: int) -> None:
        self.featurizer = Featurizer()
        w, c = self.featurizer.fit_blocks(texts)
        x = self.featurizer.stack(w, c, ctx)
        svm = LinearSVC(C=0.5, tol=1e-3, dual="auto", random_state=seed).fit(x, y)
        self.classes_ = [str(c) for c in svm.classes_]
        coef, intercept = (
            np.asarray(svm.coef_, dtype=np.float64),
            np.asarray(svm.intercept_, dtype=np.float64),
        )
        if len(self.classes_) == 2:  # one binary score: class 1 scores +d, class 0 scores -d
            coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
        self.coef, self.intercept = coef, intercept
        rng = np.random.default_rng(seed)
        keep = np.flatnonzero(y != OUT_OF_SCOPE)
        if len(keep) > NOVELTY_REFERENCE_ROWS:
            keep = rng.choice(keep, NOVELTY_REFERENCE_ROWS, replace=False)
        self.reference = _l2(sp.hstack([w[keep], c[keep]], format="csr"))
        self.reference_t = self.reference.T.tocsr()

    def _calibrate(self, d: np.ndarray, y: np.ndarray) -> None:
        """One sigmoid shared by all classes, fitted on held-out decision values: robust for a topic with a
        handful of examples (a per-class sigmoid would need several of them in the calibration rows), and
        it keeps the SVM's ranking."""
        target = (np.asarray(self.classes_)[None, :] == y[:, None]).ravel()
        if target.all() or not target.any():
            return
        lr = LogisticRegression(C=100.0).fit(d.reshape(-1, 1), target)
        self.cal_a, self.cal_b = -float(lr.coef_[0, 0]), -float(lr.intercept_[0])

    def _compile(self, texts: list[str], ctx: np.ndarray) -> None:
        """Build the fast one-note path and check it agrees with the matrix path on sample rows."""
        self.fast = None
        fast = FastScorer(
            self.featurizer,
            self.coef,
            self.intercept,
            self.cal_a,
            self.cal_b,
            self.reference_t,
            CONTEXT_WEIGHT,
        )
        slow_p, slow_s = self.proba(texts, ctx), self.novelty(texts)
        for i, t in enumerate(texts):
            p, s = fast.score(t, ctx[i])
            if not (np.allclose(p, slow_p[i], atol=1e-4) and abs(s - slow_s[i]) < 1e-4):
                log.warning("fast classifier path disagrees with the matrix path; using the matrix path")
                return
        self.fast = fast

    def _tune(self, probs: np.ndarray, sims: np.ndarray, y: np.ndarray) -> None:
        """Abstention thresholds: the low quantile of in-scope validation rows' best probability and
        novelty similarity."""
        inscope = np.flatnonzero(np.isin(y, self.topic_classes))
        if len(inscope) == 0:
            return
        topic_cols = [self.classes_.index(c) for c in self.topic_classes]
        best = probs[inscope][:, topic_cols].max(axis=1)
        sims = sims[inscope]
        self.prob_threshold = float(np.quantile(best, FALSE_ABSTAIN_QUANTILE))
        self.novelty_threshold = float(np.quantile(sims, FALSE_ABSTAIN_QUANTILE))

    # ---- inference --------------------------------------------------------------------------------------
    @property
    def topic_classes(self) -> list[str]:
        return [c for c in self.classes_ if c != OUT_OF_SCOPE]

    def decision(self, x: Any) -> np.ndarray:
        return np.asarray(x @ self.coef.T) + self.intercept

    def proba(self, norm_texts: Sequence[str], ctx: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities (rows sum to 1)."""
        return self._proba_from(self.decision(self.featurizer.transform(norm_texts, ctx)))

    def _proba_from(self, d: np.ndarray) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(self.cal_a * d + self.cal_b))
        total = p.sum(axis=1, keepdims=True)
        total[total == 0] = 1.0
        return np.asarray(p / total)

    def novelty(self, norm_texts: Sequence[str]) -> np.ndarray:
        """Mean cosine similarity of each text to its ``NOVELTY_K`` nearest reference training examples."""
        return self._sims_from(
            self.featurizer.word.transform(norm_texts), self.featurizer.char.transform(norm_texts)
        )

    def _sims_from(self, w: Any, c: Any) -> np.ndarray:
        q = _l2(sp.hstack([w, c], format="csr"))
        out = np.zeros(q.shape[0])
        for start in range(0, q.shape[0], 1000):  # dense blocks of 1000 × reference rows
            block = np.asarray((q[start : start + 1000] @ self.reference_t).todense())
            out[start : start + 1000] = nearest_mean(block)
        return out

    def predict(
        self,
        text: str | None,
        context: Mapping[str, Any] | None = None,
        k: int = 3,
        allowed: set[str] | None = None,
    ) -> Prediction:
        """Top-``k`` topics for one note. ``allowed``: topic codes still active (archived ones dropped)."""
        norm = normalise(text)
        if not norm or not has_letters(norm):
            return Prediction([], True, "empty" if not norm else "no_letters")
        ctx = context_matrix([context], 1)
        if self.fast is not None:
            probs, sim = self.fast.score(norm, ctx[0])
        else:
            probs, sim = self.proba([norm], ctx)[0], float(self.novelty([norm])[0])
        return self._decide(probs, sim, k, allowed)

    def _decide(self, probs: np.ndarray, sim: float, k: int, allowed: set[str] | None) -> Prediction:
        order = np.argsort(-probs)
        top_class = self.classes_[order[0]]
        ranked = [
            Suggestion(self.classes_[i], round(float(probs[i]), 4))
            for i in order
            if self.classes_[i] != OUT_OF_SCOPE and (allowed is None or self.classes_[i] in allowed)
        ]
        suggestions = ranked[:k]
        best = suggestions[0].confidence if suggestions else 0.0
        reason = None
        if top_class == OUT_OF_SCOPE:
            reason = "out_of_scope"
        elif best < self.prob_threshold or not suggestions:
            reason = "low_confidence"
        elif sim < self.novelty_threshold and best < NOVELTY_CONFIDENCE_CAP:
            reason = "novel"
        return Prediction(suggestions, reason is not None, reason, round(sim, 4))

    def predict_batch(
        self, texts: Sequence[str], contexts: Sequence[Mapping[str, Any] | None] | None = None, k: int = 3
    ) -> list[Prediction]:
        """``predict`` for many notes at once (evaluation)."""
        norm = [normalise(t) for t in texts]
        probs = self.proba(norm, context_matrix(contexts, len(norm)))
        sims = self.novelty(norm)
        out = []
        for i, t in enumerate(norm):
            if not t or not has_letters(t):
                out.append(Prediction([], True, "empty" if not t else "no_letters"))
            else:
                out.append(self._decide(probs[i], float(sims[i]), k, None))
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "classes": self.topic_classes,
            "has_out_of_scope_class": OUT_OF_SCOPE in self.classes_,
            "prob_threshold": round(self.prob_threshold, 4),
            "novelty_threshold": round(self.novelty_threshold, 4),
            "train_rows": self.train_rows,
            "train_seconds": round(self.train_seconds, 2),
        }
