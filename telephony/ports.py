"""The telephony port: what the workstation needs from a PBX."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from telephony.events import CallEvent
from telephony.presence import PresenceSource

EventHandler = Callable[[CallEvent], Awaitable[None]]


class Telephony(Protocol):
    async def start(self, handler: EventHandler) -> None:
        """Connect (and keep reconnecting with back-off); call ``handler`` for every call event.

        After each (re)connect, calls in progress are resynchronised and re-announced so none is lost;
        the handler must be idempotent per (call_id, event type, agent).
        """

    async def stop(self) -> None: ...

    async def originate(self, extension: str, number: str, caller_id: str | None = None) -> str:
        """Click-to-dial: ring the operator's extension, then dial ``number``; returns an action id."""
        ...

    async def pause(self, interface: str, paused: bool, reason: str = "") -> None:
        """Pause / unpause the queue member (after-call work, a break) so Asterisk does not ring them.

        The choice is kept and re-applied until the PBX agrees (link down, PBX restarted, refused)."""
        ...

    def set_presence_source(self, source: PresenceSource) -> None:
        """The workstation's stored presence, read at every (re)connect to re-apply pauses."""
        ...

    def health(self) -> dict[str, object]: ...
