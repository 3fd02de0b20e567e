"""The knowledge-base feature: cheat sheets and call scripts (``/api/kb`` routes, ``workstation kb`` commands).
Seeds the shipped articles and call scripts for the demo and first runs."""

from __future__ import annotations

from workstation.api.kb import router
from workstation.commands.kb import register as register_commands
from workstation.container import Container, KnowledgeBaseFeature, installed
from workstation.kb.service import KnowledgeBase

NAME = "knowledge_base"
__all__ = ["NAME", "build", "register_commands", "router", "seed"]


def build(container: Container) -> None:
    container.knowledge_base = KnowledgeBaseFeature(kb=KnowledgeBase(container.db))


def seed(container: Container) -> None:
    """The shipped knowledge-base articles and call scripts (idempotent)."""
    from knowledge_base.seed import seed as seed_kb

    seed_kb(installed(container.knowledge_base, NAME).kb)
