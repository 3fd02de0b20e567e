"""Mapping files: the shipped ones load; each kind of breakage stops start-up with ONE line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from billing_adapter.mapping import MAPPINGS_DIR, QUERIES, MappingError, load_mapping, parse_sql


def _write(tmp_path: Path, doc: dict) -> Path:
    p = tmp_path / "broken.yaml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return p


@pytest.fixture
def demo_doc() -> dict:
    return yaml.safe_load((MAPPINGS_DIR / "demo.yaml").read_text(encoding="utf-8"))


def _error_line(path: Path) -> str:
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("name", ["demo", "legacy_kopecks"])
def test_shipped_mappings_cover_every_query(name: str) -> None:
    mapping = load_mapping(name)
    assert set(mapping.queries) == set(QUERIES)
    assert all("?" in q.sql for q in mapping.queries.values())


def test_named_parameters_become_positional_in_order_and_strings_are_left_alone() -> None:
    sql, names = parse_sql("SELECT ':not_a_param', x::text FROM t WHERE a = :a AND b BETWEEN :b AND :a")
    assert names == ["a", "b", "a"]
    assert sql == "SELECT ':not_a_param', x::text FROM t WHERE a = ? AND b BETWEEN ? AND ?"


def test_missing_query_is_named(tmp_path: Path, demo_doc: dict) -> None:
    del demo_doc["queries"]["payments"]
    assert (
        _error_line(_write(tmp_path, demo_doc)) == "billing mapping broken.yaml: query 'payments' is missing"
    )


def test_unknown_column_is_named(tmp_path: Path, demo_doc: dict) -> None:
    demo_doc["queries"]["card"]["columns"].append("saldo")
    assert "query 'card': unknown column 'saldo'" in _error_line(_write(tmp_path, demo_doc))


def test_missing_column_is_named(tmp_path: Path, demo_doc: dict) -> None:
    demo_doc["queries"]["services"]["columns"].remove("monthly_fee")
    assert "query 'services': column 'monthly_fee' is missing" in _error_line(_write(tmp_path, demo_doc))


def test_wrong_parameter_count_is_named(tmp_path: Path, demo_doc: dict) -> None:
    demo_doc["queries"]["arpu"]["sql"] = (
        "SELECT SUM(amount) / 3 AS arpu FROM charges WHERE subscriber_id = :subscriber_id"
    )
    line = _error_line(_write(tmp_path, demo_doc))
    assert "query 'arpu': wrong parameter count: expects 3" in line
    assert "SQL has 1" in line


def test_unknown_parameter_is_named(tmp_path: Path, demo_doc: dict) -> None:
    demo_doc["queries"]["payments"]["sql"] = (
        "SELECT paid_at, amount, method FROM payments WHERE subscriber_id = :sid"
    )
    assert "query 'payments': unknown parameter ':sid'" in _error_line(_write(tmp_path, demo_doc))


def test_statement_that_is_not_a_select_is_refused(tmp_path: Path, demo_doc: dict) -> None:
    demo_doc["queries"]["payments"]["sql"] = "DELETE FROM payments WHERE subscriber_id = :subscriber_id"
    assert "query 'payments': must be one SELECT statement" in _error_line(_write(tmp_path, demo_doc))


def test_two_statements_are_refused(tmp_path: Path, demo_doc: dict) -> None:
    demo_doc["queries"]["payments"]["sql"] += "; DROP TABLE payments"
    assert "query 'payments': must be one SELECT statement" in _error_line(_write(tmp_path, demo_doc))


def test_unknown_converter_is_named(tmp_path: Path, demo_doc: dict) -> None:
    demo_doc["queries"]["card"]["convert"] = {"balance": "kopecks"}
    assert "query 'card': unknown converter 'kopecks' for column 'balance'" in _error_line(
        _write(tmp_path, demo_doc)
    )


def test_query_the_code_does_not_know_is_named(tmp_path: Path, demo_doc: dict) -> None:
    demo_doc["queries"]["balance_history"] = {"sql": "SELECT 1", "columns": []}
    assert "query 'balance_history' is not a query the workstation knows" in _error_line(
        _write(tmp_path, demo_doc)
    )


def test_invalid_yaml_gives_its_line(tmp_path: Path) -> None:
    p = tmp_path / "broken.yaml"
    p.write_text("queries:\n  card: [unclosed\n", encoding="utf-8")
    assert _error_line(p).startswith("billing mapping broken.yaml: not valid YAML at line")


def test_missing_file_is_named(tmp_path: Path) -> None:
    assert "file not found" in _error_line(tmp_path / "nowhere.yaml")


def test_converters_turn_kopecks_and_codes_into_roubles_and_names() -> None:
    card = load_mapping("legacy_kopecks").query("card")
    description = [(c,) for c in card.columns]
    row = [
        7,
        "Иванов",
        "Иван",
        "Иванович",
        "79161234567",
        "1",
        "D-1",
        2,
        -12345,
        50000,
        "Смарт",
        "Москва",
        "2020-01-02",
    ]
    (out,) = card.convert_rows(description, [row])
    assert out["subscriber_id"] == "7"
    assert out["status"] == "blocked"
    assert out["balance"] == -123.45
    assert out["credit_limit"] == 500.0
    assert out["since"].isoformat() == "2020-01-02"
