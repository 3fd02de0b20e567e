"""Unit tier: no network, fakes that speak the real protocol; every test here is marked ``unit``.

Select a tier with ``-m``: ``pytest -m unit`` (seconds), ``pytest -m "not e2e"``, ``pytest -m e2e``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.unit)
