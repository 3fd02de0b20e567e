"""Training CSVs: what is accepted, and a clear error for what is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifier.data import TrainingDataError, check_trainable, parse_csv, read_csv


def test_csv_with_text_and_label_reads_rows_and_context_columns() -> None:
    ds = parse_csv(
        "text,label,roaming_charges\nнет сети,no_network,0\nв турции нет связи,roaming,1\n".encode()
    )
    assert ds.texts == ["нет сети", "в турции нет связи"]
    assert ds.labels == ["no_network", "roaming"]
    assert ds.contexts[1]["roaming_charges"] is True
    assert ds.contexts[0]["blocked"] is False


def test_utf8_bom_is_accepted() -> None:
    ds = parse_csv("\ufefftext,label\nнет сети,no_network\n".encode())
    assert ds.labels == ["no_network"]


def test_bad_encoding_names_the_file_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "cp1251.csv"
    path.write_bytes("text,label\nнет сети,no_network\n".encode("cp1251"))
    with pytest.raises(TrainingDataError, match=r"cp1251.csv is not UTF-8 .*save it as UTF-8"):
        read_csv(path)


def test_missing_columns_are_named() -> None:
    with pytest.raises(TrainingDataError, match="needs a header with 'text' and 'label'"):
        parse_csv(b"note,topic\na,b\n", source="x.csv")


def test_one_class_is_refused_for_training() -> None:
    ds = parse_csv("text,label\nнет сети,no_network\nсвязи нет,no_network\n".encode(), source="one.csv")
    with pytest.raises(
        TrainingDataError, match=r"one.csv has 1 topic\(s\) \(no_network\); training needs at least 2"
    ):
        check_trainable(ds)


def test_topic_with_a_single_row_is_named() -> None:
    ds = parse_csv("text,label\nа б,x\nв г,x\nд е,y\n".encode(), source="s.csv")
    with pytest.raises(TrainingDataError, match="fewer than 2 rows: y"):
        check_trainable(ds)


def test_empty_texts_are_skipped_and_counted_empty_labels_refused() -> None:
    ds = parse_csv("text,label\n,no_network\n  ,roaming\nнет сети,no_network\n".encode())
    assert len(ds) == 1
    assert ds.skipped_empty == 2
    with pytest.raises(TrainingDataError, match="line 2: empty label"):
        parse_csv("text,label\nнет сети,\n".encode())


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match="cannot read"):
        read_csv(tmp_path / "nope.csv")


def test_megabyte_cell_is_read() -> None:
    big = "а" * 1_200_000
    ds = parse_csv(f"text,label\n{big},x\n".encode())
    assert len(ds.texts[0]) == 1_200_000
