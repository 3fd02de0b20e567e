"""Wiring of the contact-center figures: the service, its observer on call events, its writer operation,
its background job."""

from __future__ import annotations

from typing import Any

from workstation.kpis.formulas import Rules
from workstation.kpis.service import KpiService, register_writer_operations


def rules_from(settings: Any) -> Rules:
    return Rules(
        threshold_s=settings.kpi_sl_threshold_s,
        queue_thresholds=dict(settings.kpi_queue_thresholds),
        short_abandon_s=settings.kpi_short_abandon_s,
        abandoned=settings.kpi_sl_abandoned,
        sl_target_pct=settings.kpi_sl_target_pct,
        wait_alert_s=settings.kpi_wait_alert_s,
        long_acw_s=settings.kpi_long_acw_s,
        long_pause_s=settings.kpi_long_pause_s,
    )


def install(container: Any) -> None:
    """Register the ``kpis`` service; it follows the call service's events and ``floor.changed``."""
    calls = container.services["calls"]
    kpis = KpiService(
        container.db,
        container.services["hub"],
        container.bus,
        calls.writer,
        calls.directory,
        rules_from(container.settings),
        tz=container.settings.kpi_timezone,
        alert_window=container.settings.kpi_alert_window,
        # the node that consumes AMI (or the only node, when there is no PBX link) keeps the counters
        is_active=lambda: container.telephony is None or calls.telephony_up,
    )
    calls.observers.append(kpis.on_call_event)
    register_writer_operations(calls.writer)
    container.services["kpis"] = kpis
    container.background.append(kpis.run)
