"""``workstation classifier evaluate``: one JSON object for any labelled pair of files; clear errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from classifier.corpus.generate import generate, write_csv
from workstation.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("csv")
    train_rows = generate(
        rows_per_topic=80,
        oos_rows=60,
        seed=1,
        topics=["balance_question", "roaming", "mobile_data", "sms_problem", "tariff_change"],
    )
    # the test set adds a topic never seen in training: those rows must be counted for oos_recall
    test_rows = generate(
        rows_per_topic=30,
        oos_rows=0,
        seed=2,
        topics=[
            "balance_question",
            "roaming",
            "mobile_data",
            "sms_problem",
            "tariff_change",
            "number_porting",
        ],
    )
    write_csv(train_rows, d / "train.csv")
    write_csv(test_rows, d / "test.csv")
    return d / "train.csv", d / "test.csv"


def test_evaluate_prints_one_json_object_with_the_benchmark_keys(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    train, test = files
    assert main(["classifier", "evaluate", "--train", str(train), "--test", str(test)]) == 0
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0
    m = json.loads(out)
    for key in ("top1", "top3", "macro_f1", "abstain_rate", "in_scope_accuracy", "oos_recall", "train_rows"):
        assert key in m, key
    # thresholds were tuned on one half of the test file, the figures are those of the other half
    assert m["oos_rows"] + m["in_scope_rows"] == m["reported_on_rows"] < 180
    assert m["abstention_tuned_on"] == "half of the test rows"
    assert m["top1"] > 0.8
    curve = m["tradeoff"]
    assert [p["target_false_other"] for p in curve] == sorted(p["target_false_other"] for p in curve)
    assert len(curve) >= 5
    assert all(0 <= p["oos_recall"] <= 1 for p in curve)
    # a looser ceiling on false "Other" never catches fewer out-of-scope notes at the extremes
    assert curve[-1]["oos_recall"] >= curve[0]["oos_recall"]


def test_evaluate_with_a_tuning_file_reports_on_the_whole_test_file(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train, test = files
    tune = tmp_path / "tune.csv"
    rows = generate(rows_per_topic=10, oos_rows=10, seed=3, topics=["balance_question", "roaming"])
    write_csv(rows, tune)
    args = ["classifier", "evaluate", "--train", str(train), "--test", str(test), "--tune", str(tune)]
    assert main(args) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["oos_rows"] == 30
    assert m["in_scope_rows"] == 150
    assert m["abstention_tuned_on"] == "--tune file"
    # the unseen topic's rows count as out of scope; thresholds that keep false "Other" low catch few
    assert m["top1"] > 0.8
    assert m["oos_recall"] is not None
    assert "per_topic" not in m


def test_evaluate_with_a_one_class_training_file_is_a_one_line_error(
    tmp_path: Path, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    one = tmp_path / "one.csv"
    with one.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        w.writerows([["нет сети", "no_network"], ["связи нет", "no_network"]])
    assert main(["classifier", "evaluate", "--train", str(one), "--test", str(files[1])]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "workstation: one.csv has 1 topic(s) (no_network); training needs at least 2"


def test_evaluate_with_a_non_utf8_file_says_how_to_fix_it(
    tmp_path: Path, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "legacy.csv"
    bad.write_bytes("text,label\nнет сети,no_network\nроуминг,roaming\n".encode("cp1251"))
    assert main(["classifier", "evaluate", "--train", str(bad), "--test", str(files[1])]) == 2
    assert "legacy.csv is not UTF-8" in capsys.readouterr().err


def test_train_from_a_csv_stores_a_version_and_models_lists_it(
    tmp_path: Path,
    files: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from workstation.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'ws.db'}"
    upgrade(url)
    monkeypatch.setenv("WORKSTATION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WORKSTATION_DATABASE_URL", url)
    monkeypatch.setenv("WORKSTATION_BILLING_URL", f"sqlite:///{tmp_path / 'billing.db'}")
    assert main(["classifier", "train", "--csv", str(files[0])]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["accepted"] is True
    assert out["version"] == 1
    assert out["reason"] == "first model"
    assert (tmp_path / "models" / "model-0001.pkl").exists()
    assert main(["classifier", "models"]) == 0
    listed = json.loads(capsys.readouterr().out.splitlines()[0])
    assert listed["version"] == 1
    assert listed["current"] is True

    bad = tmp_path / "legacy.csv"
    bad.write_bytes("text,label\nнет сети,no_network\n".encode("cp1251"))
    assert main(["classifier", "train", "--csv", str(bad)]) == 2
    assert "legacy.csv is not UTF-8" in capsys.readouterr().err
    assert not (tmp_path / "models" / "model-0002.pkl").exists()
