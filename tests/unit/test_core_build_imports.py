"""A build of the screen-pop core alone (``bootstrap(features=())``) loads none of the features' heavy
libraries: its server starts in about 70 MB, not 250 MB with scikit-learn and pandas it never uses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
from workstation.app import create_app
from workstation.bootstrap import bootstrap
from workstation.settings import Settings
s = Settings(data_dir=sys.argv[1], database_url="sqlite:///" + sys.argv[1] + "/ws.db")
app = create_app(bootstrap(s, telephony=False, features=()))
heavy = sorted(m for m in ("sklearn", "pandas", "scipy", "workstation.records.service") if m in sys.modules)
routes = sorted(p for p in app.openapi()["paths"] if p.startswith("/api/"))
print(json.dumps({"heavy": heavy, "routes": routes}))
"""


def test_core_build_loads_no_feature_library(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["heavy"] == []
    assert "/api/calls/current" in seen["routes"]  # the core's routes are there
    assert not any(r.startswith("/api/records") for r in seen["routes"])


def test_every_feature_is_still_there_when_asked_for() -> None:
    from workstation.bootstrap import all_features

    assert [f.NAME for f in all_features()] == [
        "records",
        "tickets",
        "knowledge_base",
        "segments",
        "campaigns",
        "kpis",
        "callbacks",
    ]
