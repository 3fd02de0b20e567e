"""The callbacks feature: call-back tasks with reminders on the operator's screens (``/api/callbacks``)."""

from __future__ import annotations

import argparse

from workstation.api.callbacks import router
from workstation.callbacks.service import CallbackService
from workstation.container import CallbacksFeature, Container

NAME = "callbacks"
__all__ = ["NAME", "build", "register_commands", "router", "seed"]


def build(container: Container) -> None:
    service = CallbackService(container.db, container.hub)
    container.callbacks = CallbacksFeature(callbacks=service)
    container.background.append(service.run)


def register_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Callbacks have no subcommands of their own."""


def seed(container: Container) -> None:
    """Callbacks start empty: nothing to seed."""
