"""The contact-center figures feature: the KPI service, its observer on call events, its writer operation,
its background job and the ``/api/kpis`` routes."""

from __future__ import annotations

import argparse

from workstation.api.kpis import router
from workstation.container import Container, KpisFeature
from workstation.kpis.formulas import Rules
from workstation.kpis.service import KpiService, register_writer_operations
from workstation.settings import Settings

NAME = "kpis"
__all__ = ["NAME", "build", "register_commands", "router", "rules_from", "seed"]


def rules_from(settings: Settings) -> Rules:
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


def build(container: Container) -> None:
    """The KPI service follows the call service's events and ``floor.changed``."""
    calls = container.calls
    kpis = KpiService(
        container.db,
        container.hub,
        container.bus,
        calls.writer,
        calls.directory,
        rules_from(container.settings),
        tz=container.settings.kpi_timezone,
        alert_window=container.settings.kpi_alert_window,
        # the node that consumes AMI (or the only node, when there is no PBX link) keeps the counters
        is_active=lambda: calls.telephony is None or calls.telephony_up,
    )
    calls.observers.append(kpis.on_call_event)
    register_writer_operations(calls.writer)
    container.kpis = KpisFeature(kpis=kpis)
    container.background.append(kpis.run)


def register_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The figures have no subcommands of their own (reports are SQL views and ``/api/kpis``)."""


def seed(container: Container) -> None:
    """Figures come from call facts: nothing to seed."""
