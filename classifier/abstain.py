"""When to offer the free-text "Other" path first: three signals, thresholds tuned on real notes.

A linear model almost never says "none of these", so a stage abstains when any of these holds:

* the out-of-scope class is at least ``oos`` probable (the training data has rows labelled so);
* the best topic is less than ``prob`` probable (no topic is confident);
* the note is far from every training example (``sim``: mean cosine similarity to its nearest training
  examples), unless the best topic is at least ``cap`` probable (a short note phrased unlike the examples).

Thresholds tuned on the same templates the model learns from say little about real notes (a real note is
never as close to a training row as a template row is to its siblings). ``tune`` therefore picks them on
held-out notes no template made: the operators' own records when there are enough, otherwise the
hand-written tuning half shipped in ``classifier/heldout``. It maximises out-of-scope recall under a
ceiling of in-scope notes sent to "Other" (``target``); until real records exist the ceiling is low, so
the model prefers suggesting a topic to abstaining.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

# in-scope notes we accept to send to "Other" first, when tuning on held-out notes
DEFAULT_TARGET = 0.03
# the trade-off curve reports these ceilings
CURVE_TARGETS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2)
NEVER_OOS = 1.01  # an ``oos`` threshold no probability reaches


@dataclass
class Abstention:
    oos: float = 0.5
    prob: float = 0.0
    sim: float = 0.0
    cap: float = 0.95
    tuned_on: str = "default"

    def reason(self, p_oos: float, best: float, sim: float) -> str | None:
        """Why this note goes to "Other" first (None: suggest a topic)."""
        if p_oos >= self.oos:
            return "out_of_scope"
        if best < self.prob:
            return "low_confidence"
        if sim < self.sim and best < self.cap:
            return "novel"
        return None

    def mask(self, signals: Signals) -> np.ndarray:
        """``reason(...) is not None`` for many notes at once."""
        return (
            (signals.p_oos >= self.oos)
            | (signals.best < self.prob)
            | ((signals.sim < self.sim) & (signals.best < self.cap))
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass
class Signals:
    """Per-note abstention signals of one stage: out-of-scope probability, best topic probability,
    novelty similarity."""

    p_oos: np.ndarray
    best: np.ndarray
    sim: np.ndarray

    def subset(self, idx: Any) -> Signals:
        return Signals(self.p_oos[idx], self.best[idx], self.sim[idx])


def _candidates(values: np.ndarray, extra: float) -> np.ndarray:
    qs = np.quantile(values, np.linspace(0.0, 1.0, 21)) if len(values) else np.empty(0)
    return np.unique(np.concatenate([qs, [extra]]))


def tune(
    signals: Signals,
    in_scope: np.ndarray,
    target: float = DEFAULT_TARGET,
    cap: float = 0.95,
    source: str = "",
) -> Abstention:
    """Thresholds with the highest out-of-scope recall whose in-scope abstention rate is at most
    ``target`` (ties: the fewest in-scope notes abstained on). Without out-of-scope rows, the thresholds
    that abstain on at most ``target`` of the in-scope rows with the largest margin."""
    oos_rows = ~in_scope
    oos_c = _candidates(signals.p_oos, NEVER_OOS)
    prob_c = _candidates(signals.best, 0.0)
    sim_c = _candidates(signals.sim, 0.0)
    best_key: tuple[float, float] | None = None
    chosen = Abstention(NEVER_OOS, 0.0, 0.0, cap, source)
    n_in = max(int(in_scope.sum()), 1)
    n_oos = max(int(oos_rows.sum()), 1)
    by_oos = signals.p_oos[None, :] >= oos_c[:, None]
    by_prob = signals.best[None, :] < prob_c[:, None]
    by_sim = (signals.sim[None, :] < sim_c[:, None]) & (signals.best < cap)[None, :]
    for (i, a), (j, b) in itertools.product(enumerate(by_oos), enumerate(by_prob)):
        ab = a | b
        masks = ab[None, :] | by_sim  # every sim threshold at once
        false_other = masks[:, in_scope].sum(axis=1) / n_in
        recall = masks[:, oos_rows].sum(axis=1) / n_oos if oos_rows.any() else np.zeros(len(sim_c))
        for k in np.flatnonzero(false_other <= target + 1e-9):
            key = (float(recall[k]), -float(false_other[k]))
            if best_key is None or key > best_key:
                best_key = key
                chosen = Abstention(float(oos_c[i]), float(prob_c[j]), float(sim_c[k]), cap, source)
    return chosen


def rates(mask: np.ndarray, in_scope: np.ndarray) -> tuple[float | None, float | None]:
    """(in-scope notes sent to "Other", out-of-scope notes sent to "Other")."""
    fo = float(mask[in_scope].mean()) if in_scope.any() else None
    rec = float(mask[~in_scope].mean()) if (~in_scope).any() else None
    return fo, rec


def curve(
    tune_signals: Signals,
    tune_in_scope: np.ndarray,
    test_signals: Signals,
    test_in_scope: np.ndarray,
    cap: float = 0.95,
) -> list[dict[str, Any]]:
    """The whole trade-off: for each ceiling, thresholds tuned on the tuning rows and the false-"Other"
    rate and out-of-scope recall they give on the test rows."""
    out = []
    for target in CURVE_TARGETS:
        a = tune(tune_signals, tune_in_scope, target, cap)
        fo, rec = rates(a.mask(test_signals), test_in_scope)
        out.append(
            {
                "target_false_other": target,
                "false_other": None if fo is None else round(fo, 4),
                "oos_recall": None if rec is None else round(rec, 4),
            }
        )
    return out
