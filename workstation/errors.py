"""Domain errors users can act on: an ``error_id``, a message, details; one handler maps them to HTTP."""

from __future__ import annotations

from typing import Any, Protocol, cast

from anonymizer.errors import AnonymizerError, KeyMissing, LedgerRefused
from billing_adapter.errors import BadNumber, BillingAdapterError
from classifier.errors import ClassifierError
from knowledge_base.errors import KnowledgeBaseError
from telephony.errors import OriginateRejected, TelephonyError


class DomainError(Exception):
    status = 400
    error_id = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        error_id: str | None = None,
        details: dict[str, Any] | None = None,
        status: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        if error_id:
            self.error_id = error_id
        if status:
            self.status = status
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"error_id": self.error_id, "message": self.message, "details": self.details}


class NotFound(DomainError):
    status = 404
    error_id = "not_found"


class Forbidden(DomainError):
    status = 403
    error_id = "forbidden"


class Conflict(DomainError):
    """Invalid state transition or a stale update: nothing was changed."""

    status = 409
    error_id = "conflict"


class TooLarge(DomainError):
    status = 413
    error_id = "too_large"


class Unavailable(DomainError):
    status = 503
    error_id = "unavailable"


class CliError(Exception):
    """A command-line failure: one line telling the user what to fix (exit code 2)."""


# -- the lower packages' errors, mapped in one place ---------------------------------------------------
# Each lower package has its own error base with an ``error_id``; they never import this module. The app's
# one exception handler and the CLI's one ``except`` turn them into the workstation's reply through here.
# First match wins: subclasses before their bases.
_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (BadNumber, 400),
    (BillingAdapterError, 503),
    (OriginateRejected, 502),
    (TelephonyError, 503),
    (KnowledgeBaseError, 422),
    (KeyMissing, 503),
    (LedgerRefused, 409),
    (AnonymizerError, 400),
    (ClassifierError, 400),
)
LOWER_ERRORS: tuple[type[Exception], ...] = (
    BillingAdapterError,
    TelephonyError,
    KnowledgeBaseError,
    AnonymizerError,
    ClassifierError,
)


class _LowerError(Protocol):
    error_id: str


USER_ERRORS: tuple[type[Exception], ...] = (DomainError, *LOWER_ERRORS)


def as_domain_error(exc: Exception) -> DomainError:
    """A domain error or a lower package's error as the ``DomainError`` the user is shown (HTTP status,
    ``error_id``, message, details). Anything else is an unexpected ``internal_error``."""
    if isinstance(exc, DomainError):
        return exc
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            lower = cast(_LowerError, exc)
            details = getattr(exc, "details", None)
            return DomainError(
                str(exc),
                error_id=lower.error_id,
                details=dict(details) if isinstance(details, dict) else None,
                status=status,
            )
    return DomainError("internal error", error_id="internal_error", status=500)
