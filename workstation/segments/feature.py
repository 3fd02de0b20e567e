"""The segments feature: anonymised exports for analysts (``/api/exports`` routes, ``workstation segments``
commands). Marks exports cut short by a restart as interrupted."""

from __future__ import annotations

from sqlalchemy import inspect

from workstation.api.segments import router
from workstation.commands.segments import register as register_commands
from workstation.container import Container, SegmentsFeature
from workstation.segments.service import ExportService

NAME = "segments"
__all__ = ["NAME", "build", "register_commands", "router", "seed"]


def build(container: Container) -> None:
    exports = ExportService(container.db, container.settings, billing=container.billing)
    exports.isolate = container.billing_from_settings  # a worker process opens the same billing
    container.segments = SegmentsFeature(exports=exports)
    if inspect(container.db.engine).has_table("segment_exports"):
        exports.mark_interrupted()


def seed(container: Container) -> None:
    """Exports start empty: nothing to seed."""
