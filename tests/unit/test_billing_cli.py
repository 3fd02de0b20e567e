"""``workstation billing generate | load``: what a user sees, including one-line errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from workstation.cli import main


def test_generate_writes_a_demo_billing_and_says_what_it_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "b.db"
    assert main(["billing", "generate", "--subscribers", "50", "--out", str(out), "--as-of", "2026-03"]) == 0
    assert f"generated demo billing at {out}" in capsys.readouterr().out
    con = sqlite3.connect(out)
    try:
        assert con.execute("SELECT COUNT(*) FROM subscribers").fetchone()[0] == 50
        assert con.execute("SELECT MAX(month) FROM charges").fetchone()[0] == "2026-02"
        addresses = [r[0] for r in con.execute("SELECT address FROM subscribers WHERE region = 'Москва'")]
        assert addresses
        assert all(a.startswith("г. Москва, ") for a in addresses)
    finally:
        con.close()


def test_generate_refuses_a_bad_size_and_a_bad_month(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["billing", "generate", "--subscribers", "0", "--out", str(tmp_path / "x.db")]) == 2
    assert capsys.readouterr().err.strip() == "workstation: --subscribers must be at least 1"
    assert main(["billing", "generate", "--out", str(tmp_path / "x.db"), "--as-of", "March"]) == 2
    assert capsys.readouterr().err.strip() == "workstation: --as-of must be YYYY-MM, got 'March'"
    assert not (tmp_path / "x.db").exists()


def test_load_names_the_missing_file_and_the_unsupported_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["billing", "load", "--url", "postgresql://u@h/db", "--src", str(tmp_path / "none.db")]) == 2
    assert capsys.readouterr().err.strip() == f"workstation: no billing file at {tmp_path / 'none.db'}"
    src = tmp_path / "b.db"
    main(["billing", "generate", "--subscribers", "5", "--out", str(src)])
    assert main(["billing", "load", "--url", "oracle://x/y", "--src", str(src)]) == 2
    assert "unsupported target 'oracle'" in capsys.readouterr().err
