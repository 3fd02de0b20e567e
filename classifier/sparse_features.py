"""Sparse text features: word (1–2) and character (2–4, within word bounds) TF-IDF plus card context."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

# weight of the context block beside the two L2-normalised TF-IDF blocks
CONTEXT_WEIGHT = 0.5


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
        blocks = self.word.fit_transform(texts), self.char.fit_transform(texts)
        for vec in (self.word, self.char):
            # the pruned n-grams: introspection only, and most of a pickled model's size
            vec.stop_words_ = None
            vec.vocabulary_ = {term: int(i) for term, i in vec.vocabulary_.items()}
        return blocks

    def transform(self, texts: Sequence[str], ctx: np.ndarray) -> sp.csr_matrix:
        return self.stack(self.word.transform(texts), self.char.transform(texts), ctx)

    def text_only(self, texts: Sequence[str]) -> sp.csr_matrix:
        """L2-normalised text vector (for novelty similarity)."""
        m = sp.hstack([self.word.transform(texts), self.char.transform(texts)], format="csr")
        return l2_rows(m)

    @staticmethod
    def stack(w: Any, c: Any, ctx: np.ndarray) -> sp.csr_matrix:
        return sp.hstack([w, c, sp.csr_matrix(ctx * CONTEXT_WEIGHT, dtype=np.float32)], format="csr")


def l2_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ m)
