"""An export killed midway (SIGKILL to the real `workstation export-segments` process while it writes)
leaves nothing that looks complete, and the next start marks it failed and clears the partial files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from tests.apphelpers import make_container
from workstation.auth import create_user
from workstation.campaigns.models import SegmentExport
from workstation.db import Database
from workstation.migrate import upgrade

KEY = "interrupt-test-key-0123456789abcdef0123"


def test_killed_export_leaves_no_complete_looking_bundle(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ws.db'}"
    upgrade(url)
    db = Database(url)
    create_user(db, "analyst1", "analyst-password-1", "analyst")
    db.dispose()
    out = tmp_path / "exports"  # the workstation's own exports directory under data_dir
    env = {
        **os.environ,
        "WORKSTATION_DATABASE_URL": url,
        "WORKSTATION_DATA_DIR": str(tmp_path),
        "WORKSTATION_PSEUDONYM_KEY": KEY,
    }
    cmd = [sys.executable, "-m", "workstation.cli", "export-segments", "--from", "2026-01", "--to", "2026-06",
           "--out", str(out), "--synthetic", "100000", "--no-progress", "--user", "analyst1"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        partial: list[Path] = []
        while time.monotonic() < deadline and proc.poll() is None:
            partial = list(out.glob(".*.partial")) if out.exists() else []
            if partial and (partial[0] / "data.parquet").exists():
                break
            time.sleep(0.01)
        assert partial, "the export finished or failed before it could be interrupted"
        assert proc.poll() is None, "the export finished or failed before it could be interrupted"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    visible = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert visible == []
    assert list(out.rglob("manifest.json")) == []

    # the next start of the workstation sees the run as interrupted and removes its partial files
    container = make_container(tmp_path, db_url=url, pseudonym_key=KEY)
    with container.db.session() as s:
        row = s.scalars(select(SegmentExport)).one()
        assert row.state == "failed"
        assert "interrupted" in (row.error or "")
    assert list(out.iterdir()) == []
    container.db.dispose()
