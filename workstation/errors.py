"""Domain errors users can act on: an ``error_id``, a message, details; one handler maps them to HTTP."""

from __future__ import annotations

from typing import Any


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
