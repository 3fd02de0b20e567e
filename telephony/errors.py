"""Errors the telephony adapters raise; each message says what to fix."""

from __future__ import annotations


class TelephonyError(Exception):
    """Base of telephony errors."""


class TelephonyUnavailable(TelephonyError):
    """The PBX cannot be reached right now (not connected, no answer in time)."""


class AuthenticationFailed(TelephonyError):
    """Asterisk refused the AMI login: wrong user or secret."""


class OriginateRejected(TelephonyError):
    """Asterisk refused a click-to-dial ``Originate``."""
