"""An export in a process of its own, at a lower priority.

In the server's own process the export (pandas, pseudonymisation, k-anonymity, Parquet) ran on a thread:
it shares the GIL with the event loop, so the screen pop waited for it each time the loop woke up, and,
at a lower priority, a thread holding the GIL on a busy machine keeps the loop waiting until the
scheduler runs it again. Here the server's queue thread starts ``python -c`` with this module's ``main``
and waits for it (blocked, no GIL); the worker opens the same workstation DB and billing from the same
settings, writes progress, result and audit rows as the thread did, and exits.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from anonymizer.export import ExportRequest

EXPORT_NICENESS = 10


def settings_payload(settings: Any) -> dict[str, Any]:
    """The settings as JSON values, secrets included (sent on the worker's stdin, never in argv)."""
    out: dict[str, Any] = {}
    for name, value in settings.model_dump().items():
        out[name] = value.get_secret_value() if isinstance(value, SecretStr) else value
    return json.loads(json.dumps(out, default=str))  # type: ignore[no-any-return]


def run_in_process(settings: Any, req: ExportRequest, user_id: int | None, reason: str) -> int:
    """Run a prepared export in a worker process; returns its exit code (0: done)."""
    payload: dict[str, Any] = {
        "settings": settings_payload(settings),
        "request": asdict(req),
        "user_id": user_id,
        "reason": reason,
    }
    root = str(Path(__file__).resolve().parents[2])
    code = f"import sys; sys.path.insert(0, {root!r}); from workstation.segments.worker import main; main()"
    proc = subprocess.run([sys.executable, "-c", code], input=json.dumps(payload).encode(), check=False)
    return proc.returncode


def main() -> None:
    with contextlib.suppress(OSError):  # not permitted in some containers: it still runs apart
        os.nice(EXPORT_NICENESS)
    payload = json.loads(sys.stdin.read())
    from anonymizer.source import BillingBatchSource
    from workstation.adapters import make_billing_source
    from workstation.db import Database
    from workstation.segments.service import ExportService
    from workstation.settings import Settings

    settings = Settings(**payload["settings"])
    db = Database(settings.resolved_database_url())
    billing = make_billing_source(settings)
    service = ExportService(db, settings, source_factory=lambda: BillingBatchSource(billing))
    try:
        service.run(ExportRequest(**payload["request"]), payload["user_id"], payload["reason"])
    except BaseException:  # recorded on the row and in the audit log by ``run``
        sys.exit(1)
    finally:
        db.dispose()
