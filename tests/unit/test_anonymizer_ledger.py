"""The release ledger on its own: what it records, what it lets through, what it refuses and why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anonymizer.ledger import LedgerRefused, Release, ReleaseLedger

IDS = np.arange(1, 41, dtype=np.int64)
TENS = (IDS - 1) // 10  # four classes of 10
FIVES = IDS % 8  # eight classes of 5 that cut across the tens


def release(export_id: str, month_from: str = "2026-01", month_to: str = "2026-06", k: int = 5) -> Release:
    return Release(
        export_id, month_from, month_to, ["age_band"], "marketing", "k1", k, 2, {"age_band": 0}, 40
    )


def test_a_release_is_recorded_with_its_period_recipient_key_and_levels(tmp_path: Path) -> None:
    ledger = ReleaseLedger(tmp_path)
    first = release("a")
    assert ledger.check(first, IDS, TENS) == {"overlapping_releases": [], "joint_k_all": None}
    ledger.record(first, IDS, TENS)
    assert ledger.releases() == [first]
    assert (tmp_path / "a.classes.parquet").is_file()


def test_the_same_partition_again_is_accepted_and_a_cutting_one_refused(tmp_path: Path) -> None:
    ledger = ReleaseLedger(tmp_path)
    ledger.record(release("a"), IDS, TENS)
    checked = ledger.check(release("b"), IDS, TENS)
    assert checked["overlapping_releases"] == [
        {"export_id": "a", "period": ["2026-01", "2026-06"], "joint_k": 10}
    ]
    with pytest.raises(LedgerRefused) as refused:
        ledger.check(release("c", "2026-04", "2026-09"), IDS, FIVES)
    assert refused.value.details["joint_k"] < 5
    assert refused.value.details["releases"] == "a (2026-01..2026-06)"
    assert "below k=5" in refused.value.message


def test_a_period_that_does_not_overlap_is_not_joined(tmp_path: Path) -> None:
    ledger = ReleaseLedger(tmp_path)
    ledger.record(release("a"), IDS, TENS)
    assert ledger.check(release("d", "2026-07", "2026-12"), IDS, FIVES)["overlapping_releases"] == []


def test_releases_that_pass_one_by_one_are_also_checked_together(tmp_path: Path) -> None:
    ledger = ReleaseLedger(tmp_path)
    halves = (IDS > 20).astype(np.int64)  # two classes of 20
    ledger.record(release("a", k=2), IDS, halves)
    ledger.record(release("b", k=2), IDS, IDS % 2)  # with "a": classes of 10
    # each pair of the new one with an earlier one leaves classes of 10; all three together leave 5
    new = (IDS % 4 >= 2).astype(np.int64)
    with pytest.raises(LedgerRefused) as refused:
        ledger.check(release("c", k=6), IDS, new)
    assert refused.value.details["joint_k"] == 5
    assert all(c["joint_k"] == 10 for c in refused.value.details["conflicts"])
