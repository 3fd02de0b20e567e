"""Errors of the knowledge base's pure parts. Each has an ``error_id`` the UI translates and ``details``
with the values its message names; the workstation maps them to HTTP and CLI replies in one place each."""

from __future__ import annotations

from typing import Any


class KnowledgeBaseError(Exception):
    """Base of knowledge-base errors: content that cannot be saved as it is."""

    error_id = "kb_invalid"

    def __init__(self, message: str, *, error_id: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.error_id = error_id or self.error_id
        self.details = details or {}


class BadArticle(KnowledgeBaseError):
    error_id = "bad_article"


class BadScript(KnowledgeBaseError):
    error_id = "bad_script"
