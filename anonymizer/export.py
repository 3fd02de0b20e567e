"""The segmentation export: billing batches → aggregates → depersonalisation → segments → a bundle.

A bundle is a directory ``<out>/<export id>/`` with ``data.parquet``, ``data.csv``, ``segments.json`` and
``manifest.json`` (period, rows, method per attribute, k, l, suppression, information loss, key id,
checksums). It is written under a hidden ``.<export id>.partial`` name and renamed only when complete,
so an interrupted export never looks finished. The bundle never holds the key or any id → pseudonym map.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anonymizer.aggregate import ReadReport, aggregate_monthly, read_attributes, subscriber_features
from anonymizer.depersonalise import QUASI_IDENTIFIERS, shuffle_rows
from anonymizer.errors import AnonymizerError
from anonymizer.ledger import Release, ReleaseLedger
from anonymizer.pseudonyms import derive_key, export_context, key_fingerprint
from anonymizer.release import depersonalise_release
from anonymizer.segmentation import VALUE_TIER_RULE, arpu_bands, behaviour_clusters, profiles, value_tiers
from anonymizer.source import BatchSource

ProgressFn = Callable[[float, str], None]
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MAX_MONTHS = 36


class ExportError(AnonymizerError):
    error_id = "export_invalid"


class EmptyPeriod(ExportError):
    error_id = "export_empty_period"


@dataclass
class ExportRequest:
    month_from: str
    month_to: str
    k: int = 5
    l: int = 2  # noqa: E741 (distinct l-diversity of the ARPU band, enforced)
    # quasi-identifiers to include (others are left out of the export altogether)
    attributes: list[str] = field(default_factory=lambda: list(QUASI_IDENTIFIERS))
    max_suppression: float = 0.05
    chunk_size: int = 50_000
    export_id: str = ""
    seed: int | None = None
    recipient: str = ""

    def validate(self) -> None:
        for name, value in (("from", self.month_from), ("to", self.month_to)):
            if not _MONTH.match(value or ""):
                raise ExportError(
                    f"--{name} must be a month as YYYY-MM, got {value!r}", error_id="export_bad_month"
                )
        if self.month_from > self.month_to:
            raise ExportError(
                f"the period is reversed: {self.month_from} is after {self.month_to}",
                error_id="export_reversed",
            )
        if len(months_between(self.month_from, self.month_to)) > MAX_MONTHS:
            raise ExportError(
                f"the period is longer than {MAX_MONTHS} months",
                error_id="export_too_long",
                details={"max": MAX_MONTHS},
            )
        if not 2 <= int(self.k) <= 1000:
            raise ExportError(
                "k must be between 2 and 1000 (k-anonymity; 5 is the default)", error_id="export_bad_k"
            )
        if not 2 <= int(self.l) <= 6:
            raise ExportError(
                "l must be between 2 and 6 (distinct ARPU bands per class; 2 is the default)",
                error_id="export_bad_l",
            )
        if len(self.recipient) > 200:
            raise ExportError("the recipient is longer than 200 characters", error_id="export_bad_recipient")
        unknown = set(self.attributes) - set(QUASI_IDENTIFIERS)
        if unknown:
            raise ExportError(
                f"unknown attributes: {', '.join(sorted(unknown))}", error_id="export_bad_attributes"
            )
        if not 0 <= self.max_suppression < 1:
            raise ExportError("max_suppression must be in [0, 1)", error_id="export_bad_suppression")
        if not self.export_id:
            self.export_id = new_export_id()


def new_export_id() -> str:
    return f"seg-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def months_between(a: str, b: str) -> list[str]:
    y, m = int(a[:4]), int(a[5:])
    out = []
    while f"{y:04d}-{m:02d}" <= b:
        out.append(f"{y:04d}-{m:02d}")
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


@dataclass
class Dataset:
    """A release ready to write. ``subscriber_ids`` / ``classes`` (in the frame's order before shuffling)
    stay in the workstation: the ledger keeps them, the bundle never does."""

    frame: pd.DataFrame
    report: dict[str, Any]
    segments: dict[str, Any]
    timings: dict[str, float]
    subscriber_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    classes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    key: bytes = b""


def key_for(master: bytes, req: ExportRequest) -> bytes:
    return derive_key(master, export_context(req.export_id))


def build_dataset(
    source: BatchSource, req: ExportRequest, master: bytes, progress: ProgressFn | None = None
) -> Dataset:
    """Everything but writing: read, aggregate, pseudonymise, segment, generalise and suppress."""
    req.validate()
    say = progress or (lambda f, s: None)
    t0 = time.perf_counter()
    rr = ReadReport()
    say(0.0, "reading subscribers")
    attrs = read_attributes(
        source.subscribers(req.chunk_size),
        req.month_to,
        rr,
        lambda _s, n: say(min(0.14, 0.01 + n * 1e-8), "reading subscribers"),
    )
    n_subs = max(1, len(attrs))
    totals = aggregate_monthly(
        source.monthly(req.month_from, req.month_to, req.chunk_size),
        rr,
        lambda _s, seen: say(0.15 + 0.6 * min(1.0, seen / n_subs), "reading charges"),
    )
    t_read = time.perf_counter()
    if totals.empty:
        raise EmptyPeriod(
            f"no billing charges for {req.month_from}..{req.month_to}: nothing to export",
            details=rr.to_dict(),
        )
    say(0.76, "aggregating")
    feats = subscriber_features(totals, attrs)
    del totals, attrs
    if feats.empty:
        raise EmptyPeriod(
            "no subscriber with both attributes and charges in the period", details=rr.to_dict()
        )
    feats["arpu_band"] = arpu_bands(feats["arpu"])
    feats["value_tier"] = value_tiers(feats["arpu"])
    t_agg = time.perf_counter()

    say(0.8, "segmenting")
    clustering = behaviour_clusters(feats, seed=req.seed or 0)
    feats["behaviour_cluster"] = clustering.labels
    names = np.array([clustering.names[i] for i in range(clustering.n_clusters)], dtype=object)
    feats["behaviour_segment"] = names[clustering.labels]
    t_seg = time.perf_counter()

    say(0.85, "depersonalising")
    release = depersonalise_release(
        feats, req.k, req.l, list(req.attributes), key_for(master, req), req.max_suppression
    )
    out = release.frame
    t_dep = time.perf_counter()
    segments = {
        "value_tiers": {"rule": VALUE_TIER_RULE, "profiles": profiles(out, "value_tier")},
        "behaviour_clusters": {
            "criterion": clustering.criterion,
            "profiles": profiles(out, "behaviour_segment"),
        },
    }
    say(0.9, "depersonalised")
    out = shuffle_rows(out, req.seed)
    return Dataset(
        frame=out,
        report={"read": rr.to_dict(), "privacy": release.privacy, "quasi_identifiers": list(req.attributes)},
        segments=segments,
        timings={
            "read_s": round(t_read - t0, 3),
            "aggregate_s": round(t_agg - t_read, 3),
            "segment_s": round(t_seg - t_agg, 3),
            "depersonalise_s": round(t_dep - t_seg, 3),
        },
        subscriber_ids=release.subscriber_ids,
        classes=release.classes,
        key=key_for(master, req),
    )


def methods(qis: list[str], levels: dict[str, int]) -> dict[str, str]:
    """The method applied to each exported attribute (RKN order No. 996 terms), for the manifest."""
    lv = {q: levels.get(q, 0) for q in qis}
    m = {
        "pseudonym": "identifier replacement: HMAC-SHA256 of the billing id with a key derived for this export only",
        "age_band": f"changing semantics: birth date → age at period end → band (level {lv.get('age_band')})",
        "sex": f"kept as is, or removed when generalisation reached level 1 (level {lv.get('sex')})",
        "region": f"changing semantics: region → federal district → removed (level {lv.get('region')})",
        "tariff": f"changing semantics: tariffs under 5 % grouped as 'other' → removed (level {lv.get('tariff')})",
        "tenure_band": f"changing semantics: activation date → months of tenure → band (level {lv.get('tenure_band')})",
        "device_class": f"changing semantics: device class → smartphone/other → removed (level {lv.get('device_class')})",
        "arpu_band": "sensitive attribute: not released per row; each class holds at least l distinct bands "
        "(enforced) and its distance to the overall distribution is reported (t-closeness)",
        "value_tier": "derived: rule on the group's mean ARPU",
        "behaviour_cluster": "derived: the group's most frequent cluster number",
        "behaviour_segment": "derived: that cluster's name",
        "arpu": "changing semantics: mean of a group of at least k subscribers, rounded to 10 RUB",
        "*_per_month": "changing semantics: group means of monthly values, rounded (RUB 1, minutes 10, SMS 1, MB 100)",
        "share_*": "changing semantics: group mean share of charges, rounded to 0.01",
        "months_active": "changing semantics: group mean of months with charges, rounded to 0.1 (no connection month)",
        "payment_regularity": "group mean share of months with a payment, rounded to 0.01",
        "months_negative": "group mean count of months with a negative balance, rounded to 0.1",
        "(rows)": "shuffling: row order randomised; records in classes smaller than k, or in classes that cannot "
        "hold l ARPU bands, removed (changing composition); every released row is identical to at least k-1 others",
        "(removed)": "changing composition: name, numbers, documents, address, e-mail, exact dates, billing id, "
        "free text are never exported",
        "(decomposition)": "decomposition: identities stay in billing, the key only in the workstation's secrets",
    }  # fmt: skip
    return {k: v for k, v in m.items() if k not in QUASI_IDENTIFIERS or k in qis}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_bundle(
    ds: Dataset,
    req: ExportRequest,
    out_dir: Path,
    key_id: str,
    master: bytes,
    progress: ProgressFn | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Write the bundle under a temporary name, then rename it into place."""
    say = progress or (lambda f, s: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / req.export_id
    if final.exists():
        raise ExportError(
            f"an export named {req.export_id} already exists in {out_dir}", error_id="export_exists"
        )
    tmp = out_dir / f".{req.export_id}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        say(0.91, "writing parquet")
        ds.frame.to_parquet(tmp / "data.parquet", index=False)
        say(0.94, "writing csv")
        ds.frame.to_csv(tmp / "data.csv", index=False)
        (tmp / "segments.json").write_text(json.dumps(ds.segments, ensure_ascii=False, indent=2), "utf-8")
        say(0.98, "writing manifest")
        manifest = {
            "export_id": req.export_id,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "period": {"from": req.month_from, "to": req.month_to, "months": months_between(req.month_from, req.month_to)},
            "rows": len(ds.frame),
            "columns": list(ds.frame.columns),
            "quasi_identifiers": ds.report["quasi_identifiers"],
            "sensitive_attributes": ["arpu_band"],
            "recipient": req.recipient,
            "methods": methods(ds.report["quasi_identifiers"], ds.report["privacy"]["generalisation_levels"]),
            "privacy": ds.report["privacy"],
            "billing_read": ds.report["read"],
            "pseudonymisation": {
                "algorithm": "HMAC-SHA256, first 128 bits, hex",
                "key_id": key_id,
                "key_fingerprint": key_fingerprint(master),
                "derivation": "HMAC-SHA256(master key, 'segments-export:' + export_id)",
                "note": "the key and any id-to-pseudonym mapping stay in the workstation; not in this bundle",
            },
            "segments": {
                "value_tier_rule": ds.segments["value_tiers"]["rule"],
                "clustering": ds.segments["behaviour_clusters"]["criterion"],
            },
            "files": {
                name: {"sha256": _sha256(tmp / name), "bytes": (tmp / name).stat().st_size}
                for name in ("data.parquet", "data.csv", "segments.json")
            },
        }  # fmt: skip
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    say(1.0, "done")
    return final, manifest


@dataclass
class ExportResult:
    path: Path
    manifest: dict[str, Any]
    timings: dict[str, float]


def run_export(
    source: BatchSource,
    req: ExportRequest,
    out_dir: Path,
    master: bytes,
    key_id: str,
    progress: ProgressFn | None = None,
    ledger: ReleaseLedger | None = None,
) -> ExportResult:
    """Read, depersonalise, segment and write one bundle; ``master`` comes from ``pseudonyms.master_key``.

    With a ``ledger`` the release is first checked against the earlier releases of an overlapping period
    (``LedgerRefused``, nothing written) and recorded once its bundle is in place."""
    ds = build_dataset(source, req, master, progress)
    t = time.perf_counter()
    if ledger is None:
        path, manifest = write_bundle(ds, req, out_dir, key_id, master, progress)
        return ExportResult(path, manifest, {**ds.timings, "write_s": round(time.perf_counter() - t, 3)})
    entry = Release(
        export_id=req.export_id,
        month_from=req.month_from,
        month_to=req.month_to,
        attributes=list(req.attributes),
        recipient=req.recipient,
        key_id=key_id,
        k=req.k,
        l=req.l,
        generalisation=dict(ds.report["privacy"]["generalisation_levels"]),
        rows=len(ds.frame),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    with ledger.locked():
        ds.report["privacy"]["ledger"] = ledger.check(entry, ds.subscriber_ids, ds.classes)
        path, manifest = write_bundle(ds, req, out_dir, key_id, master, progress)
        ledger.record(entry, ds.subscriber_ids, ds.classes)
    return ExportResult(path, manifest, {**ds.timings, "write_s": round(time.perf_counter() - t, 3)})
