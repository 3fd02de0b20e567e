"""Errors of the anonymizer. Each has an ``error_id`` the UI translates and ``details`` with the values its
message names; the workstation maps them to HTTP and CLI replies in one place each."""

from __future__ import annotations

from typing import Any


class AnonymizerError(Exception):
    """Base of anonymizer errors: an export or re-link that cannot be done as asked."""

    error_id = "export_invalid"

    def __init__(self, message: str, *, error_id: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.error_id = error_id or self.error_id
        self.details = details or {}


class KeyMissing(AnonymizerError):
    """Exports and re-links are refused when the pseudonymisation key is not configured."""

    error_id = "pseudonym_key_missing"


class LedgerRefused(AnonymizerError):
    """The new export, joined with earlier releases of an overlapping period, would fall below k."""

    error_id = "export_ledger_refused"
