"""Segment labels for the marketing screen: every segment key a campaign can target has a readable name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anonymizer.export import ExportRequest, run_export
from anonymizer.relink import segment_counts, segment_labels
from anonymizer.synthetic import SyntheticBilling

KEY = b"unit-test-master-key-0123456789abcdef"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    billing = SyntheticBilling(600, seed=4)
    req = ExportRequest("2026-01", "2026-03", k=3, chunk_size=300, seed=1)
    return run_export(billing.source(), req, tmp_path_factory.mktemp("exports"), KEY, "k-test").path


def test_every_segment_key_has_a_readable_label(bundle: Path) -> None:
    labels = segment_labels(bundle)
    assert set(labels) == set(segment_counts(bundle))
    profiles = json.loads((bundle / "segments.json").read_text("utf-8"))["behaviour_clusters"]["profiles"]
    cluster_names = {p["segment"] for p in profiles}
    for key, label in labels.items():
        if key.startswith("cluster:"):
            assert label in cluster_names
        else:
            assert key == "tier:" + label
