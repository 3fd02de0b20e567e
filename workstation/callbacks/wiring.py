"""Wiring of callbacks: the ``callbacks`` service and its reminder job."""

from __future__ import annotations

from typing import Any

from workstation.callbacks.service import CallbackService


def install(container: Any) -> None:
    service = CallbackService(container.db, container.services["hub"])
    container.services["callbacks"] = service
    container.background.append(service.run)
