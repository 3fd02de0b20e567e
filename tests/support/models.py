"""Test and benchmark helper: a bootstrap-trained model, trained once per process and copied on demand."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

_trained: Path | None = None


def pretrained_models_dir() -> Path:
    """A models directory holding one accepted model trained on the bootstrap corpus (cached per process)."""
    global _trained
    if _trained is None or not (_trained / "current").exists():
        from classifier.data import load_bootstrap
        from classifier.registry import ModelRegistry

        d = Path(tempfile.mkdtemp(prefix="ws-models-"))
        ModelRegistry(d).train(load_bootstrap(), force=True)
        _trained = d
    return _trained


def install_pretrained(models_dir: Path) -> None:
    """Copy the cached bootstrap model into ``models_dir`` (e.g. ``<data_dir>/models``)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    for f in pretrained_models_dir().iterdir():
        shutil.copy2(f, models_dir / f.name)
