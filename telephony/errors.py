"""Errors the telephony adapters raise; each message says what to fix, each has an ``error_id`` the UI
translates."""

from __future__ import annotations


class TelephonyError(Exception):
    """Base of telephony errors. ``details``: the values the message names, for the UI's translation."""

    error_id = "telephony_error"

    @property
    def details(self) -> dict[str, object]:
        return {}


class TelephonyUnavailable(TelephonyError):
    """The PBX cannot be reached right now (not connected, no answer in time)."""

    error_id = "telephony_down"


class AsteriskShuttingDown(TelephonyUnavailable):
    """Asterisk answered "Asterisk is shutting down": it refuses logins and actions until it is back."""

    error_id = "telephony_shutting_down"


class AuthenticationFailed(TelephonyError):
    """Asterisk refused the AMI login: wrong user or secret."""

    error_id = "telephony_auth"


class PermissionDenied(TelephonyError):
    """Asterisk answered "Permission denied": the AMI user lacks the ``write=`` class an action needs.

    ``permission`` names the missing class (``agent`` for ``QueuePause``, ``originate`` for
    ``Originate``, ``system``/``reporting`` for ``CoreShowChannels``)."""

    error_id = "telephony_permission"

    def __init__(self, action: str, permission: str) -> None:
        super().__init__(
            f"Asterisk refused {action}: Permission denied; the AMI user needs write = {permission} "
            "in manager.conf"
        )
        self.action, self.permission = action, permission

    @property
    def details(self) -> dict[str, object]:
        return {"permission": self.permission}


class OriginateRejected(TelephonyError):
    """Asterisk refused a click-to-dial ``Originate``."""

    error_id = "originate_rejected"
