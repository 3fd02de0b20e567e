"""The topic model: word + character n-gram TF-IDF and card context → calibrated linear classifier,
with an out-of-scope detector that decides when to offer the free-text "Other" path first.

Abstention (``classifier.abstain``) combines the out-of-scope class, the best topic's probability and
novelty (mean cosine similarity to the 3 nearest training examples). ``fit`` sets first thresholds from
its own validation split; ``tune_abstention`` replaces them with thresholds tuned on held-out notes no
template made (the registry does so after every training).

Weights are float32 and stored once, as the features × classes matrix the one-note path reads rows of.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.svm import LinearSVC

from classifier.abstain import DEFAULT_TARGET, Abstention, Signals, tune
from classifier.embeddings import Encoder
from classifier.fast import FastScorer, nearest_mean
from classifier.features import context_matrix, has_letters, normalise
from classifier.refine import RefinedStage
from classifier.sparse_features import CONTEXT_WEIGHT, Featurizer, l2_rows
from classifier.topics import OUT_OF_SCOPE

log = logging.getLogger(__name__)

# validation share used to tune abstention thresholds
VALIDATION_SHARE = 0.12
# at most this many training rows are kept as the novelty reference set (bounds suggestion latency)
NOVELTY_REFERENCE_ROWS = 3000
# in-scope validation rows (template-made) we accept to send to free text before real-note tuning
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
    stage: str = "sparse"  # sparse (every keystroke) | refined (sentence embeddings, at a typing pause)


def _upsample_rare(
    texts: list[str], y: np.ndarray, ctx: np.ndarray, w: np.ndarray
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Repeat the rows of topics with fewer than ``MIN_CLASS_ROWS`` examples (a topic just promoted from
    a small cluster) so the validation split and calibration folds all see it."""
    extra: list[int] = []
    for label, count in zip(*np.unique(y, return_counts=True), strict=True):
        if count < MIN_CLASS_ROWS:
            rows = np.flatnonzero(y == label)
            extra += [int(rows[i % count]) for i in range(MIN_CLASS_ROWS - count)]
    if not extra:
        return texts, y, ctx, w
    return (
        texts + [texts[i] for i in extra],
        np.concatenate([y, y[extra]]),
        np.vstack([ctx, ctx[extra]]),
        np.concatenate([w, w[extra]]),
    )


@dataclass
class TopicModel:
    """Fit with ``fit``; ``predict`` one note; ``rank_batch`` / ``abstain_batch`` for evaluation."""

    featurizer: Featurizer = field(default_factory=Featurizer)
    classes_: list[str] = field(default_factory=list)
    abstention: Abstention = field(default_factory=Abstention)
    train_rows: int = 0
    train_seconds: float = 0.0
    coef_t: Any = None  # features × classes float32 (linear SVM weights), the only copy
    intercept: Any = None
    cal_a: float = -1.0  # shared sigmoid calibration: p = 1 / (1 + exp(a·decision + b)), then normalised
    cal_b: float = 0.0
    # features × rows: L2-normalised text vectors of up to NOVELTY_REFERENCE_ROWS training rows
    reference_t: Any = None
    fast: FastScorer | None = None
    refined: RefinedStage | None = None  # sentence-embedding stage, used at a typing pause

    # ---- training -------------------------------------------------------------------------------------
    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        contexts: Sequence[Mapping[str, Any] | None] | None = None,
        seed: int = 0,
        weights: Sequence[float] | None = None,
    ) -> TopicModel:
        """Train on notes, labels (topic codes, optionally ``out_of_scope``) and card contexts.
        ``weights``: per-row sample weights (real records count more than bootstrap rows)."""
        started = time.perf_counter()
        norm = [normalise(t) for t in texts]
        ctx = context_matrix(contexts, len(norm))
        y = np.asarray(labels)
        w = np.ones(len(norm)) if weights is None else np.asarray(weights, dtype=float)
        norm, y, ctx, w = _upsample_rare(norm, y, ctx, w)
        idx = np.arange(len(norm))
        tr, va = train_test_split(idx, test_size=VALIDATION_SHARE, random_state=seed, stratify=y)
        # calibration and thresholds come from rows the deployed model never saw (no refit shifts them)
        self._fit_core([norm[i] for i in tr], y[tr], ctx[tr], w[tr], seed)
        va_texts = [norm[i] for i in va]
        blocks = (self.featurizer.word.transform(va_texts), self.featurizer.char.transform(va_texts))
        decision = self.decision(self.featurizer.stack(*blocks, ctx[va]))
        self._calibrate(decision, y[va])
        self._tune_on_validation(self._proba_from(decision), self._sims_from(*blocks), y[va])
        self._compile([norm[i] for i in va[:50]], ctx[va[:50]])
        self.train_rows = len(norm)
        self.train_seconds = time.perf_counter() - started
        return self

    def _fit_core(
        self, texts: list[str], y: np.ndarray, ctx: np.ndarray, weights: np.ndarray, seed: int
    ) -> None:
        self.featurizer = Featurizer()
        w, c = self.featurizer.fit_blocks(texts)
        x = self.featurizer.stack(w, c, ctx)
        svm = LinearSVC(C=0.5, tol=1e-3, dual="auto", random_state=seed).fit(x, y, sample_weight=weights)
        self.classes_ = [str(c) for c in svm.classes_]
        coef, intercept = np.asarray(svm.coef_), np.asarray(svm.intercept_)
        if len(self.classes_) == 2:  # one binary score: class 1 scores +d, class 0 scores -d
            coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
        self.coef_t = np.ascontiguousarray(coef.T, dtype=np.float32)
        self.intercept = intercept.astype(np.float32)
        rng = np.random.default_rng(seed)
        keep = np.flatnonzero(y != OUT_OF_SCOPE)
        if len(keep) > NOVELTY_REFERENCE_ROWS:
            keep = rng.choice(keep, NOVELTY_REFERENCE_ROWS, replace=False)
        self.reference_t = l2_rows(sp.hstack([w[keep], c[keep]], format="csr")).T.tocsr().astype(np.float32)

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
            self.coef_t,
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

    def _tune_on_validation(self, probs: np.ndarray, sims: np.ndarray, y: np.ndarray) -> None:
        """First thresholds, from template-made validation rows: the out-of-scope class wins when it is
        the most probable class; the low quantile of in-scope rows' best probability and novelty."""
        inscope = np.flatnonzero(np.isin(y, self.topic_classes))
        if len(inscope) == 0:
            return
        sig = self.signals_from(probs, sims)
        self.abstention = Abstention(
            oos=0.5,
            prob=float(np.quantile(sig.best[inscope], FALSE_ABSTAIN_QUANTILE)),
            sim=float(np.quantile(sig.sim[inscope], FALSE_ABSTAIN_QUANTILE)),
            cap=NOVELTY_CONFIDENCE_CAP,
            tuned_on="template validation rows",
        )

    def signals_from(self, probs: np.ndarray, sims: np.ndarray) -> Signals:
        topic_cols = [self.classes_.index(c) for c in self.topic_classes]
        oos = self.classes_.index(OUT_OF_SCOPE) if OUT_OF_SCOPE in self.classes_ else None
        return Signals(
            probs[:, oos] if oos is not None else np.zeros(len(probs)),
            probs[:, topic_cols].max(axis=1) if topic_cols else np.zeros(len(probs)),
            np.asarray(sims, dtype=float),
        )

    def signals(
        self,
        texts: Sequence[str],
        contexts: Sequence[Mapping[str, Any] | None] | None = None,
        encoder: Encoder | None = None,
    ) -> Signals:
        """Abstention signals of many raw notes: of the refined stage when ``encoder`` is given."""
        norm = [normalise(t) for t in texts]
        probs = self.proba(norm, context_matrix(contexts, len(norm)))
        vectors = self._vectors(norm, encoder)
        if vectors is None or self.refined is None:
            return self.signals_from(probs, self.novelty(norm))
        return self.signals_from(self.refined.fuse(probs, vectors), self.refined.novelty(vectors))

    def tune_abstention(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        contexts: Sequence[Mapping[str, Any] | None] | None = None,
        target: float = DEFAULT_TARGET,
        source: str = "held-out notes",
        encoder: Encoder | None = None,
    ) -> None:
        """Replace both stages' thresholds with ones tuned on held-out notes (``classifier.abstain.tune``)."""
        in_scope = np.asarray([lab in set(self.topic_classes) for lab in labels])
        self.abstention = tune(
            self.signals(texts, contexts), in_scope, target, NOVELTY_CONFIDENCE_CAP, source
        )
        if self.refined is not None and encoder is not None:
            self.refined.abstention = tune(
                self.signals(texts, contexts, encoder), in_scope, target, NOVELTY_CONFIDENCE_CAP, source
            )

    def fit_refined(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        encoder: Encoder,
        weights: Sequence[float] | None = None,
        seed: int = 0,
    ) -> None:
        """Fit the refining stage (embeddings + logistic regression) on the same training notes."""
        started = time.perf_counter()
        vectors = encoder.encode([normalise(t) for t in texts])
        self.refined = RefinedStage.fit(vectors, labels, self.classes_, encoder.name, weights, seed)
        self.train_seconds += time.perf_counter() - started

    def _vectors(self, norm_texts: list[str], encoder: Encoder | None) -> np.ndarray | None:
        if encoder is None or self.refined is None or encoder.name != self.refined.encoder_name:
            return None
        return encoder.encode(norm_texts)

    # ---- inference --------------------------------------------------------------------------------------
    @property
    def topic_classes(self) -> list[str]:
        return [c for c in self.classes_ if c != OUT_OF_SCOPE]

    def decision(self, x: Any) -> np.ndarray:
        return np.asarray(x @ self.coef_t) + self.intercept

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
        q = l2_rows(sp.hstack([w, c], format="csr"))
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
        encoder: Encoder | None = None,
    ) -> Prediction:
        """Top-``k`` topics for one note. ``allowed``: topic codes still active (archived ones dropped).
        With ``encoder`` (and a refined stage trained with it), the refined suggestion."""
        norm = normalise(text)
        if not norm or not has_letters(norm):
            return Prediction([], True, "empty" if not norm else "no_letters")
        ctx = context_matrix([context], 1)
        if self.fast is not None:
            probs, sim = self.fast.score(norm, ctx[0])
        else:
            probs, sim = self.proba([norm], ctx)[0], float(self.novelty([norm])[0])
        vectors = self._vectors([norm], encoder)
        if vectors is not None and self.refined is not None:
            fused = self.refined.fuse(probs, vectors)[0]
            dense_sim = float(self.refined.novelty(vectors)[0])
            return self._decide(fused, dense_sim, k, allowed, self.refined.abstention, "refined")
        return self._decide(probs, sim, k, allowed, self.abstention, "sparse")

    def _decide(
        self,
        probs: np.ndarray,
        sim: float,
        k: int,
        allowed: set[str] | None,
        abstention: Abstention,
        stage: str,
    ) -> Prediction:
        order = np.argsort(-probs)
        ranked = [
            Suggestion(self.classes_[i], round(float(probs[i]), 4))
            for i in order
            if self.classes_[i] != OUT_OF_SCOPE and (allowed is None or self.classes_[i] in allowed)
        ]
        suggestions = ranked[:k]
        best = suggestions[0].confidence if suggestions else 0.0
        p_oos = float(probs[self.classes_.index(OUT_OF_SCOPE)]) if OUT_OF_SCOPE in self.classes_ else 0.0
        reason = abstention.reason(p_oos, best, sim) if suggestions else "low_confidence"
        return Prediction(suggestions, reason is not None, reason, round(sim, 4), stage)

    def predict_batch(
        self,
        texts: Sequence[str],
        contexts: Sequence[Mapping[str, Any] | None] | None = None,
        k: int = 3,
        encoder: Encoder | None = None,
    ) -> list[Prediction]:
        """``predict`` for many notes at once (evaluation)."""
        norm = [normalise(t) for t in texts]
        probs = self.proba(norm, context_matrix(contexts, len(norm)))
        vectors = self._vectors(norm, encoder)
        if vectors is not None and self.refined is not None:
            probs, sims = self.refined.fuse(probs, vectors), self.refined.novelty(vectors)
            abstention, stage = self.refined.abstention, "refined"
        else:
            sims, abstention, stage = self.novelty(norm), self.abstention, "sparse"
        out = []
        for i, t in enumerate(norm):
            if not t or not has_letters(t):
                out.append(Prediction([], True, "empty" if not t else "no_letters", stage=stage))
            else:
                out.append(self._decide(probs[i], float(sims[i]), k, None, abstention, stage))
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "classes": self.topic_classes,
            "has_out_of_scope_class": OUT_OF_SCOPE in self.classes_,
            "abstention": self.abstention.to_dict(),
            "refined": None
            if self.refined is None
            else {"encoder": self.refined.encoder_name, "abstention": self.refined.abstention.to_dict()},
            "weights": "float32, stored once",
            "train_rows": self.train_rows,
            "train_seconds": round(self.train_seconds, 2),
        }
