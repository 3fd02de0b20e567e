"""Segmentation exports run by the workstation: from billing batches to a bundle in ``data_dir/exports``.

The pseudonymisation key is checked before anything is read (no key, no export). Progress is written to
the ``segment_exports`` row so the analyst's page (and the CLI's bar) can follow a long run. Every
export and every download is in the audit log with who, why and how many rows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from anonymizer.export import ExportRequest, ProgressFn, run_export
from anonymizer.ledger import ReleaseLedger
from anonymizer.pseudonyms import master_key
from anonymizer.source import BatchQueries, BatchSource, BillingBatchSource
from workstation import audit
from workstation.campaigns.models import SegmentExport
from workstation.db import Database, utcnow
from workstation.errors import USER_ERRORS, DomainError, NotFound, Unavailable, as_domain_error
from workstation.runtime import lower_thread_priority

log = logging.getLogger(__name__)

BUNDLE_FILES = ("data.parquet", "data.csv", "segments.json", "manifest.json")


class ExportService:
    """Starts, runs and describes exports. ``source_factory`` builds the billing batch source."""

    def __init__(
        self,
        db: Database,
        settings: Any,
        billing: Any = None,
        source_factory: Callable[[], BatchSource] | None = None,
    ):
        self.db = db
        self.settings = settings
        self.exports_dir = Path(settings.data_dir) / "exports"
        self._billing = billing
        self._source_factory = source_factory
        self._threads: dict[str, threading.Thread] = {}
        # exports run one (or ``export_concurrency``) at a time, the others wait in order: eight at once
        # doubled the server's memory on 10k subscribers
        self.max_running = max(1, int(getattr(settings, "export_concurrency", 1)))
        self.max_waiting = 8
        self._turn = threading.Condition()
        self._waiting: list[str] = []
        self._running = 0
        # the release ledger stays with the workstation's data, wherever a bundle is written
        self.ledger = ReleaseLedger(Path(settings.data_dir) / "ledger")
        self.isolate = False  # exports in a worker process (the billing of the settings: feature.build)
        self.ran_apart = 0

    # ------------------------------------------------------------------ inputs
    def master(self) -> bytes:
        """The master key, or ``KeyMissing`` (HTTP 503 / CLI exit 2) naming the setting to set."""
        return master_key(self.settings.pseudonym_key)

    def source(self) -> BatchSource:
        if self._source_factory is not None:
            return self._source_factory()
        if not isinstance(self._billing, BatchQueries):  # a front without batch reads at all
            raise Unavailable(
                "billing cannot be read in batches here (set WORKSTATION_BILLING_URL to the billing DB)",
                error_id="billing_no_batches",
            )
        return BillingBatchSource(self._billing)

    # ------------------------------------------------------------------ running
    def prepare(
        self,
        user_id: int | None,
        month_from: str,
        month_to: str,
        k: int = 5,
        attributes: list[str] | None = None,
        recipient: str = "",
    ) -> ExportRequest:
        """Validate and record a new export (state ``running``); nothing is read yet."""
        self.master()
        req = ExportRequest(month_from, month_to, k=k, recipient=recipient)
        if attributes is not None:
            req.attributes = list(attributes)
        req.validate()
        with self.db.session() as s:
            s.add(
                SegmentExport(
                    id=req.export_id,
                    user_id=user_id,
                    state="running",
                    month_from=month_from,
                    month_to=month_to,
                    k=req.k,
                    attributes=req.attributes,
                    key_id=self.settings.pseudonym_key_id,
                    summary={},
                )
            )
        return req

    def run(
        self, req: ExportRequest, user_id: int | None, reason: str, progress: ProgressFn | None = None
    ) -> dict[str, Any]:
        """Run a prepared export in this thread; returns the summary shown to analysts."""
        last = [0.0]

        def on_progress(fraction: float, stage: str) -> None:
            if progress:
                progress(fraction, stage)
            now = time.monotonic()
            if now - last[0] >= 0.5 or fraction >= 1.0:
                last[0] = now
                self._set(req.export_id, progress=round(fraction, 3), stage=stage)

        try:
            result = run_export(
                self.source(),
                req,
                self.exports_dir,
                self.master(),
                self.settings.pseudonym_key_id,
                on_progress,
                ledger=self.ledger,
            )
        except BaseException as exc:
            error = as_domain_error(exc) if isinstance(exc, USER_ERRORS) else None
            message = error.message if error else f"export failed: {type(exc).__name__}"
            failure = {"code": error.error_id, "details": error.details} if error else {}
            self._failed(req.export_id, user_id, reason, message, failure)
            raise
        summary = summarise(result.manifest, result.path)
        summary["timings"] = result.timings
        self._set(
            req.export_id,
            state="done",
            progress=1.0,
            stage="done",
            rows=result.manifest["rows"],
            path=str(result.path),
            summary=summary,
            finished_at=utcnow(),
        )
        audit.record(
            self.db,
            user_id=user_id,
            action="export.segments",
            subject=req.export_id,
            reason=reason,
            details={
                "state": "done",
                "rows": result.manifest["rows"],
                "period": [req.month_from, req.month_to],
                "k": req.k,
                "l": req.l,
                "attributes": req.attributes,
                "recipient": req.recipient,
                "key_id": self.settings.pseudonym_key_id,
            },
        )
        return summary

    def ensure_room(self) -> None:
        """Before preparing an export: refuse when the queue is full (503 ``export_queue_full``)."""
        with self._turn:
            if len(self._waiting) >= self.max_waiting:
                raise Unavailable(
                    "too many exports waiting: try again when one has finished",
                    error_id="export_queue_full",
                    details={"waiting": len(self._waiting)},
                )

    def queue_position(self, export_id: str) -> int:
        """1 for the next export to run, 0 when it is not waiting."""
        with self._turn:
            return self._waiting.index(export_id) + 1 if export_id in self._waiting else 0

    def _wait_turn(self, export_id: str) -> None:
        with self._turn:
            while not (self._waiting[0] == export_id and self._running < self.max_running):
                self._turn.wait()
            self._waiting.pop(0)
            self._running += 1

    def _turn_done(self) -> None:
        with self._turn:
            self._running -= 1
            self._turn.notify_all()

    def start(self, req: ExportRequest, user_id: int | None, reason: str) -> None:
        """Queue a prepared export; a background thread runs it when its turn comes (the page polls
        ``get``, which shows the queue position meanwhile)."""
        with self._turn:
            self._waiting.append(req.export_id)
        self._set(req.export_id, stage="queued")

        def work() -> None:
            lower_thread_priority()  # the screen pop on the event loop's thread comes first
            self._wait_turn(req.export_id)
            try:
                if self.in_process():
                    self._run_apart(req, user_id, reason)
                else:
                    self.run(req, user_id, reason)
            except BaseException:  # recorded on the row and in the audit log
                log.warning("export %s failed", req.export_id)
            finally:
                self._turn_done()

        t = threading.Thread(target=work, name=f"export-{req.export_id}", daemon=True)
        self._threads[req.export_id] = t
        t.start()

    def in_process(self) -> bool:
        """Exports of the billing named by the settings run in a worker process
        (``workstation.segments.worker``); a billing given in code (tests' fakes, the CLI's synthetic
        one) runs on the thread."""
        return self.isolate and self._source_factory is None and isinstance(self._billing, BatchQueries)

    def _run_apart(self, req: ExportRequest, user_id: int | None, reason: str) -> None:
        from workstation.segments.worker import run_in_process

        code = run_in_process(self.settings, req, user_id, reason)
        self.ran_apart += 1
        if code == 0:
            return
        if self.get(req.export_id)["state"] == "running":  # the worker died before it could say so
            message = f"export failed: the export process exited with {code}"
            self._failed(req.export_id, user_id, reason, message, {})
        raise RuntimeError(f"export process exited with {code}")

    def _failed(
        self, export_id: str, user_id: int | None, reason: str, message: str, failure: dict[str, Any]
    ) -> None:
        """The failure on the export's row and in the audit log."""
        self._set(
            export_id, state="failed", error=message, finished_at=utcnow(), summary={"failure": failure}
        )
        audit.record(
            self.db,
            user_id=user_id,
            action="export.segments",
            subject=export_id,
            reason=reason,
            details={"state": "failed", "error": message, "failure": failure.get("code")},
        )

    def wait(self, export_id: str, timeout: float | None = None) -> None:
        t = self._threads.get(export_id)
        if t is not None:
            t.join(timeout)

    def mark_interrupted(self) -> int:
        """At start-up: exports still ``running`` from a process that died are marked failed, and their
        hidden ``.partial`` directories removed (they never looked complete). Returns how many."""
        import shutil

        with self.db.session() as s:
            rows = s.scalars(select(SegmentExport).where(SegmentExport.state == "running")).all()
            stale = [r for r in rows if r.id not in self._threads]
            for r in stale:
                r.state, r.error, r.finished_at = (
                    "failed",
                    "interrupted: the workstation stopped during the export",
                    utcnow(),
                )
                shutil.rmtree(self.exports_dir / f".{r.id}.partial", ignore_errors=True)
        return len(stale)

    def _set(self, export_id: str, **values: Any) -> None:
        with self.db.session() as s:
            row = s.get(SegmentExport, export_id)
            if row is not None:
                for k, v in values.items():
                    setattr(row, k, v)

    # ------------------------------------------------------------------ reading
    def get(self, export_id: str) -> dict[str, Any]:
        with self.db.session() as s:
            row = s.get(SegmentExport, export_id)
            if row is None:
                raise NotFound("no such export", error_id="export_not_found")
            return {**export_dict(row), "queue_position": self.queue_position(export_id)}

    def list_exports(self, limit: int = 50) -> list[dict[str, Any]]:
        with self.db.session() as s:
            rows = s.scalars(
                select(SegmentExport).order_by(SegmentExport.created_at.desc()).limit(limit)
            ).all()
            return [export_dict(r) for r in rows]

    def bundle_path(self, export_id: str) -> Path:
        with self.db.session() as s:
            row = s.get(SegmentExport, export_id)
            if row is None or row.state != "done" or not row.path:
                raise NotFound("this export is not finished", error_id="export_not_ready")
            path = Path(row.path)
        if not (path / "manifest.json").is_file():
            raise NotFound("the export's files are gone", error_id="export_missing")
        return path

    def check_key_of(self, export_id: str) -> None:
        """Re-linking needs the key the export was made with: after a key rotation
        (``WORKSTATION_PSEUDONYM_KEY_ID`` changed) old exports are refused with a clear error."""
        with self.db.session() as s:
            row = s.get(SegmentExport, export_id)
            made_with = row.key_id if row is not None else None
        current = self.settings.pseudonym_key_id
        if made_with is not None and made_with != current:
            raise DomainError(
                f"export {export_id} was made with key {made_with}, the current key is {current}: "
                "make a new export to target its segments",
                error_id="export_key_rotated",
            )

    def file_for_download(self, export_id: str, name: str, user_id: int | None) -> Path:
        if name not in BUNDLE_FILES:
            raise NotFound("no such file in an export", error_id="export_file_unknown")
        path = self.bundle_path(export_id) / name
        audit.record(
            self.db, user_id=user_id, action="export.download", subject=export_id, details={"file": name}
        )
        return path


def summarise(manifest: dict[str, Any], bundle: Path) -> dict[str, Any]:
    """What the analyst's page shows: period, rows, privacy report, methods, segment profiles (no ids)."""
    import json

    from anonymizer.relink import segment_counts, segment_labels

    segments: dict[str, Any] = json.loads((bundle / "segments.json").read_text("utf-8"))
    segments["counts"] = segment_counts(bundle)
    segments["labels"] = segment_labels(bundle)
    return {
        "period": manifest["period"],
        "rows": manifest["rows"],
        "quasi_identifiers": manifest["quasi_identifiers"],
        "privacy": manifest["privacy"],
        "methods": manifest["methods"],
        "billing_read": manifest["billing_read"],
        "key_id": manifest["pseudonymisation"]["key_id"],
        "segments": segments,
        "files": manifest["files"],
    }


def export_dict(row: SegmentExport) -> dict[str, Any]:
    return {
        "id": row.id,
        "state": row.state,
        "month_from": row.month_from,
        "month_to": row.month_to,
        "k": row.k,
        "attributes": row.attributes,
        "progress": row.progress,
        "stage": row.stage,
        "rows": row.rows,
        "key_id": row.key_id,
        "summary": row.summary,
        "error": row.error,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
    }
