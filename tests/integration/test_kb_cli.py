"""``workstation kb seed|reindex|search`` on a migrated SQLite workstation DB."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workstation.cli import main
from workstation.migrate import upgrade


def test_seed_reindex_and_search_from_the_command_line(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.setenv("WORKSTATION_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("WORKSTATION_DATABASE_URL", raising=False)
    upgrade(f"sqlite:///{tmp_path / 'workstation.db'}")
    assert main(["kb", "seed"]) == 0
    assert "articles added: 18" in capsys.readouterr().out
    assert main(["kb", "seed"]) == 0
    assert "articles added: 0, scripts added: 0" in capsys.readouterr().out
    assert main(["kb", "reindex"]) == 0
    assert "reindexed 18 articles" in capsys.readouterr().out
    assert main(["kb", "search", "роуменг", "--lang", "ru"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "(searched for: роуминг)"
    assert json.loads(out[1])["slug"] == "roaming"


def test_empty_query_is_one_line_error(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.setenv("WORKSTATION_DATA_DIR", str(tmp_path))
    upgrade(f"sqlite:///{tmp_path / 'workstation.db'}")
    assert main(["kb", "search", "  "]) == 2
    assert capsys.readouterr().err.strip() == "workstation: give a query"
