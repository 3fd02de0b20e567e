"""Errors of the billing adapter. Each has an ``error_id`` the UI translates; the workstation maps them to
HTTP statuses and CLI lines in one place each."""

from __future__ import annotations


class BillingAdapterError(Exception):
    """Base of the billing adapter's errors."""

    error_id = "billing_error"

    def __init__(self, message: str, *, error_id: str | None = None):
        super().__init__(message)
        if error_id:
            self.error_id = error_id


class BillingError(BillingAdapterError):
    """Billing could not answer (down, timeout, broken mapping)."""

    error_id = "billing_unavailable"


class BadNumber(BillingAdapterError, ValueError):
    """Not a phone number (letters, too short, too long)."""

    error_id = "bad_number"
