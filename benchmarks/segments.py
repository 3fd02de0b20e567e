"""Benchmark of the segmentation export and the PII scrubber. Prints ONE JSON object.

Segments: N subscribers × 6 months of generated billing in the batch adapter's exact shape
(``anonymizer.synthetic``; generating the frames is counted inside ``seconds``, so the figure is
conservative), then aggregation + depersonalisation (HMAC pseudonyms, k-anonymity, l-diversity) +
segmentation (value tiers, MiniBatchKMeans with silhouette choice). Writing the bundle (Parquet + CSV)
is timed apart as ``write_seconds``. ``peak_rss_mb`` is the process peak after the export, before the
scrubber's models load.

Privacy of that export as its manifest measures it over the whole released record (k, l, t, ARX
prosecutor risk, information loss), and side by side on one smaller input our release against anjana
(``benchmarks/segments_baseline.py``: time, information loss, k and l checked by pycanon for both).

Scrubber: recall per kind, false-positive rate on clean notes and the over-scrubbed word rate on the two
hand-written sets in ``benchmarks/data`` (``pii_notes.txt``, the set the rules were developed on, and
``pii_notes_heldout.txt`` and ``pii_notes_blind.txt``, each written after the rules were fixed, and each
measured blind once before the fixes its misses led to); the generated notes of
``tests.support.pii_notes`` only for throughput; the classifier's generated corpus as more clean text.

    .venv/bin/python benchmarks/segments.py            # 1M subscribers (targets: ≤ 120 s, ≤ 4096 MB)
    .venv/bin/python benchmarks/segments.py --quick    # 50k subscribers
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DATA = Path(__file__).resolve().parent / "data"


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def bench_segments(n: int, k: int) -> dict[str, object]:
    from anonymizer.export import ExportRequest, build_dataset, write_bundle
    from anonymizer.synthetic import SyntheticBilling

    key = b"benchmark-master-key-0123456789abcdef"
    source = SyntheticBilling(n, month_to="2026-06", months=6, seed=5, broken_rows=100).source()
    req = ExportRequest("2026-01", "2026-06", k=k, chunk_size=50_000, seed=1)
    t0 = time.perf_counter()
    ds = build_dataset(source, req, key)
    seconds = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        write_bundle(ds, req, Path(tmp), "bench", key)
        write_seconds = time.perf_counter() - t1
    privacy = ds.report["privacy"]
    return {
        "subscribers": n,
        "months": 6,
        "seconds": round(seconds, 2),
        "stage_seconds": ds.timings,
        "write_seconds": round(write_seconds, 2),
        "peak_rss_mb": _peak_rss_mb(),
        "rows_exported": len(ds.frame),
        "k_requested": k,
        "k_achieved_whole_record": privacy["k_achieved"],
        "l_diversity_arpu_band": privacy["l_diversity_arpu_band"],
        "t_closeness_arpu_band": privacy["t_closeness_arpu_band"],
        "prosecutor_risk": privacy["risk"]["prosecutor"],
        "information_loss_sse_sst": privacy["information_loss"]["microaggregation_sse_sst"]["overall"],
        "groups_merged_for_l": privacy["groups_merged_for_l"],
        "suppressed_share": privacy["suppressed_share"],
        "generalisation_levels": privacy["generalisation_levels"],
        "clusters": ds.segments["behaviour_clusters"]["criterion"].get("chosen_k"),
        "broken_rows_reported": ds.report["read"]["broken_rows"],
    }


def bench_scrubber() -> dict[str, object]:
    from anonymizer.pii_accounts import set_identifier_formats
    from anonymizer.pii_eval import evaluate, load_marked, scrub_throughput
    from anonymizer.scrubber import find_pii_many, scrub, warm_up
    from billing_adapter.mapping import load_mapping
    from tests.support.pii_notes import generate

    warm_up()
    set_identifier_formats(load_mapping("demo").identifier_formats)
    out: dict[str, object] = {}
    sets = (
        ("dev_set", "pii_notes.txt"),
        ("heldout_set", "pii_notes_heldout.txt"),
        ("blind_set", "pii_notes_blind.txt"),
    )
    for label, name in sets:
        notes, clean = load_marked(DATA / name)
        report = evaluate(notes, clean)
        out[f"scrub_{label}"] = {
            "notes_with_pii": len(notes),
            "clean_notes": len(clean),
            "recall": report["recall"],
            "typed_recall": report["typed_recall"],
            "false_positive_rate": report["false_positive_rate"],
            "over_scrubbed_word_rate": report["over_scrubbed_word_rate"],
            "misses": len(report["_misses"]),
        }
    notes, clean = generate(n_with_pii=2000, n_clean=1000, seed=7)
    texts = [n.text for n in notes + clean]
    batched = scrub_throughput(texts)
    t0 = time.perf_counter()
    for text in texts[:300]:
        scrub(text)
    single = 300 / (time.perf_counter() - t0)
    generated = evaluate(notes, clean)
    # more clean text: the classifier's generated request notes (typos, caps, places, no PII)
    from classifier.corpus.generate import generate as classifier_corpus

    other = [str(r["text"]) for r in classifier_corpus(rows_per_topic=60, oos_rows=200, seed=3)]
    flagged = sum(1 for i in range(0, len(other), 64) for spans in find_pii_many(other[i : i + 64]) if spans)
    out.update(
        {
            "scrub_notes_per_s": round(batched, 1),
            "scrub_notes_per_s_one_by_one": round(single, 1),
            "scrub_generated_set_recall": generated["recall"],
            "scrub_generated_set_false_positive_rate": generated["false_positive_rate"],
            "scrub_false_positive_rate_classifier_corpus": round(flagged / len(other), 4),
        }
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="50k subscribers instead of 1M")
    parser.add_argument("--subscribers", type=int)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument(
        "--compare", type=int, help="subscribers for the anjana comparison (default 5000, quick 2000)"
    )
    args = parser.parse_args()
    n = args.subscribers or (50_000 if args.quick else 1_000_000)
    t0 = time.perf_counter()
    result: dict[str, object] = {"benchmark": "segments", "quick": bool(args.quick)}
    result.update(bench_segments(n, args.k))
    result["against_anjana"] = _baseline().compare(args.compare or (2000 if args.quick else 5000), args.k)
    result.update(bench_scrubber())
    result["total_wall_seconds"] = round(time.perf_counter() - t0, 1)
    result["machine"] = {"python": platform.python_version(), "cpus": _cpus()}
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _baseline() -> Any:
    """``benchmarks/segments_baseline.py`` (benchmarks/ is no package; its classifier.py would shadow)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "segments_baseline", Path(__file__).parent / "segments_baseline.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


if __name__ == "__main__":
    sys.exit(main())
