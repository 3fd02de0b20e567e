"""Segmentation export: independent k/l check with pycanon, no identifiers, no key, exact re-linking,
and the bad inputs (empty period, k unattainable, broken rows, interruption)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pycanon import anonymity

from anonymizer.export import EmptyPeriod, ExportError, ExportRequest, run_export
from anonymizer.pseudonyms import KeyMissing, master_key
from anonymizer.relink import relink, segment_counts, segment_pseudonyms
from anonymizer.scrubber import find_pii
from anonymizer.synthetic import SyntheticBilling

KEY = b"unit-test-master-key-0123456789abcdef"
N = 3000


@pytest.fixture(scope="module")
def billing() -> SyntheticBilling:
    return SyntheticBilling(N, broken_rows=40, with_identifiers=True, seed=3)


@pytest.fixture(scope="module")
def bundle(billing: SyntheticBilling, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exports")
    req = ExportRequest("2026-01", "2026-06", k=5, chunk_size=700, seed=1)
    return run_export(billing.source(), req, out, KEY, "k-test").path


def _manifest(bundle: Path) -> dict:
    return json.loads((bundle / "manifest.json").read_text("utf-8"))


def test_export_is_k_anonymous_over_the_whole_record_per_pycanon(bundle: Path) -> None:
    manifest = _manifest(bundle)
    data = pd.read_parquet(bundle / "data.parquet")
    cols = [c for c in data.columns if c != "pseudonym"]
    k = anonymity.k_anonymity(data[cols].astype(str), cols)
    assert k >= 5
    assert manifest["privacy"]["k_achieved"] == k
    assert manifest["privacy"]["l_diversity_arpu_band"] >= 2
    assert "arpu_band" not in data.columns  # the sensitive attribute is not released per row
    assert manifest["rows"] == len(data) > 0.9 * N * 0.9


def test_export_carries_no_direct_identifier(bundle: Path, billing: SyntheticBilling) -> None:
    subs = pd.concat(billing.subscriber_chunks(1000))
    data = pd.read_parquet(bundle / "data.parquet")
    banned = {
        "subscriber_id",
        "last_name",
        "first_name",
        "msisdn",
        "passport",
        "email",
        "address",
        "birth_date",
    }
    assert not banned & set(data.columns)
    text = "".join(p.read_text("utf-8") for p in bundle.iterdir() if p.suffix in (".csv", ".json"))
    for col in ("msisdn", "passport", "email", "address", "last_name"):
        for value in subs[col].sample(50, random_state=0):
            assert str(value) not in text, col
    # the scrubber finds no personal data in any exported line
    lines = (bundle / "data.csv").read_text("utf-8").splitlines()[:100]
    assert [line for line in lines if find_pii(line)] == []
    manifest = _manifest(bundle)
    assert manifest["billing_read"]["columns_dropped_on_read"] == sorted(
        ["address", "email", "first_name", "last_name", "msisdn", "passport"]
    )


def test_bundle_holds_neither_key_nor_mapping(bundle: Path) -> None:
    names = sorted(p.name for p in bundle.iterdir())
    assert names == ["data.csv", "data.parquet", "manifest.json", "segments.json"]
    blob = b"".join(p.read_bytes() for p in bundle.iterdir())
    assert KEY not in blob
    assert KEY.hex().encode() not in blob
    data = pd.read_parquet(bundle / "data.parquet")
    assert data["pseudonym"].is_unique
    # no column holds billing ids (1..N): nothing maps pseudonyms back without the key
    for col in data.columns:
        text_values = data[col].astype(str)
        assert not (text_values.str.fullmatch(r"\d+").all() and text_values.nunique() == len(data)), col
    assert _manifest(bundle)["pseudonymisation"]["key_id"] == "k-test"


def test_relinking_with_the_key_is_exact_and_without_it_finds_nothing(
    bundle: Path, billing: SyntheticBilling
) -> None:
    export_id = _manifest(bundle)["export_id"]
    targets = segment_pseudonyms(bundle, ["tier:premium", "tier:high"])
    ids = [list(range(s, min(s + 500, N + 1))) for s in range(1, N + 1, 500)]
    found = relink(KEY, export_id, targets, ids)
    assert (
        len(found)
        == len(targets)
        == segment_counts(bundle).get("tier:premium", 0) + segment_counts(bundle)["tier:high"]
    )
    # independently: the ARPU of every re-linked subscriber, recomputed from billing, is ≥ 700
    monthly = pd.concat(billing.monthly_chunks("2026-01", "2026-06", 1000))
    charges = monthly[["voice", "sms", "data", "subscription", "roaming", "other"]].sum(axis=1)
    arpu = charges.groupby(monthly["subscriber_id"]).sum() / monthly.groupby("subscriber_id").size()
    # tiers are set on group means: the re-linked subscribers' ARPU averages in the tier, not each one
    assert arpu.loc[[int(i) for i in found]].mean() >= 700
    assert relink(b"another-key-that-is-long-enough-000000", export_id, targets, ids) == []


def test_two_exports_cannot_be_joined(billing: SyntheticBilling, bundle: Path, tmp_path: Path) -> None:
    req = ExportRequest("2026-01", "2026-06", k=5, chunk_size=1000, seed=2)
    other = run_export(billing.source(), req, tmp_path, KEY, "k-test").path
    a = set(pd.read_parquet(bundle / "data.parquet")["pseudonym"])
    b = set(pd.read_parquet(other / "data.parquet")["pseudonym"])
    assert len(a) > 1000
    assert not a & b


def test_missing_key_refuses_with_a_clear_error() -> None:
    with pytest.raises(KeyMissing, match="WORKSTATION_PSEUDONYM_KEY"):
        master_key(None)
    with pytest.raises(KeyMissing, match="too short"):
        master_key("short")


def test_unattainable_k_suppresses_more_and_never_exports_below_k(tmp_path: Path) -> None:
    small = SyntheticBilling(60, seed=9)
    req = ExportRequest("2026-01", "2026-06", k=25, max_suppression=0.0, seed=1)
    res = run_export(small.source(), req, tmp_path, KEY, "k1")
    privacy = res.manifest["privacy"]
    data = pd.read_parquet(res.path / "data.parquet")
    cols = [c for c in data.columns if c != "pseudonym"]
    if len(data):
        assert anonymity.k_anonymity(data[cols].astype(str), cols) >= 25
    assert privacy["rows_suppressed"] == 60 - len(data)
    assert privacy["suppression_over_target"] is (privacy["rows_suppressed"] > 0)
    assert max(privacy["generalisation_levels"].values()) >= 1


def test_empty_period_is_refused_and_leaves_nothing(billing: SyntheticBilling, tmp_path: Path) -> None:
    with pytest.raises(EmptyPeriod, match=r"2030-01\.\.2030-06"):
        run_export(billing.source(), ExportRequest("2030-01", "2030-06"), tmp_path, KEY, "k1")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("month_from", "month_to", "message"),
    [("2026-13", "2026-06", "YYYY-MM"), ("2026-06", "2026-01", "reversed"), ("26-01", "2026-06", "YYYY-MM")],
)
def test_bad_period_is_refused(month_from: str, month_to: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=message):
        run_export(SyntheticBilling(10).source(), ExportRequest(month_from, month_to), tmp_path, KEY, "k1")


def test_broken_billing_rows_are_counted_and_reported(bundle: Path) -> None:
    read = _manifest(bundle)["billing_read"]
    assert read["broken_rows"] == 40
    assert read["broken_by_reason"] == {"data:null": 20, "voice:negative": 20}


def test_interrupted_export_leaves_no_complete_looking_file(
    billing: SyntheticBilling, tmp_path: Path
) -> None:
    def stop_while_writing(fraction: float, stage: str) -> None:
        if stage == "writing csv":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_export(
            billing.source(), ExportRequest("2026-01", "2026-06"), tmp_path, KEY, "k1", stop_while_writing
        )
    assert list(tmp_path.iterdir()) == []


def test_segments_have_profiles_and_a_stated_criterion(bundle: Path) -> None:
    segments = json.loads((bundle / "segments.json").read_text("utf-8"))
    tiers = segments["value_tiers"]["profiles"]
    assert {p["segment"] for p in tiers} <= {"low", "middle", "high", "premium"}
    assert sum(p["size"] for p in tiers) == _manifest(bundle)["rows"]
    clusters = segments["behaviour_clusters"]
    assert clusters["criterion"]["choice"] == "highest silhouette score on a sample"
    assert len(clusters["profiles"]) == clusters["criterion"]["chosen_k"]
    mix = clusters["profiles"][0]["service_mix"]
    assert abs(sum(mix.values()) - 1.0) < 0.05
    assert np.isfinite([p["mean_arpu"] for p in clusters["profiles"]]).all()
