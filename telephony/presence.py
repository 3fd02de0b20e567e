"""Operator presence is the workstation's: the queue-member pauses it wants, and whether Asterisk agrees.

Asterisk forgets pauses when it restarts (static members come back unpaused), refuses ``QueuePause``
while it shuts down, and cannot be told anything while the link is down. So every pause the workstation
chooses is written here first; on every (re)connect the AMI client compares it with ``QueueStatus`` and
sends ``QueuePause`` for each member Asterisk disagrees about, and keeps retrying until it agrees.
A ``PresenceSource`` (the workstation's stored presence) fills in members nobody paused in this process,
so a restarted workstation or a new leader node re-applies breaks and after-call work too.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from telephony.errors import PermissionDenied, TelephonyError, TelephonyUnavailable
from telephony.permissions import raise_refusal

log = logging.getLogger("telephony.ami")

# interface -> (paused, reason) the workstation wants now
PresenceSource = Callable[[], Awaitable[dict[str, tuple[bool, str]]]]


@dataclass
class Wanted:
    paused: bool
    reason: str = ""
    agreed: bool = False  # Asterisk reported (or acknowledged) this state since it was chosen
    member: bool = True  # False: Asterisk has this interface in no queue, so there is nothing to pause


class PauseBook:
    """The pauses wanted per member interface, and which of them Asterisk does not yet agree with."""

    def __init__(self) -> None:
        self.wanted: dict[str, Wanted] = {}
        self._local: set[str] = set()  # chosen in this process: newer than anything a source says

    def want(self, interface: str, paused: bool, reason: str = "") -> None:
        """The workstation chose this state (a break, after-call work, ready)."""
        self.wanted[interface] = Wanted(paused, reason if paused else "")
        self._local.add(interface)

    def seed(self, desired: dict[str, tuple[bool, str]]) -> None:
        """States from the workstation's store, for members not chosen in this process."""
        for iface, (paused, reason) in desired.items():
            if iface not in self._local:
                old = self.wanted.get(iface)
                if old is None or old.paused != paused:
                    self.wanted[iface] = Wanted(paused, reason if paused else "")

    def observe(self, interface: str, paused: bool) -> bool:
        """Asterisk reports a member's pause; True when it disagrees with what is wanted."""
        w = self.wanted.get(interface)
        if w is None:
            return False
        w.member = True
        w.agreed = w.paused == paused
        return not w.agreed

    def acknowledged(self, interface: str) -> None:
        """``QueuePause`` answered Success: Asterisk holds the wanted state now."""
        if (w := self.wanted.get(interface)) is not None:
            w.agreed = True

    def not_a_member(self, interface: str) -> None:
        if (w := self.wanted.get(interface)) is not None:
            w.member = False

    def compare(self, queue_status: Iterable[dict[str, str]]) -> list[str]:
        """Check every wanted member against a ``QueueStatus`` answer; returns the ones to re-apply.

        A member counts as paused when it is paused in any queue it is in, and as agreeing only when every
        queue agrees (``QueuePause`` without ``Queue`` sets them all)."""
        seen: dict[str, list[bool]] = {}
        for m in queue_status:
            if m.get("Event") == "QueueMember":
                iface = m.get("Location") or m.get("Interface") or ""
                seen.setdefault(iface, []).append(m.get("Paused") == "1")
        out = []
        for iface, w in self.wanted.items():
            states = seen.get(iface)
            w.member = states is not None
            w.agreed = states is not None and all(s == w.paused for s in states)
            if w.member and not w.agreed:
                out.append(iface)
        return out

    def pending(self) -> list[str]:
        """Members whose wanted state Asterisk has not confirmed yet."""
        return [i for i, w in self.wanted.items() if w.member and not w.agreed]


class PauseKeeper(PauseBook):
    """Applies the wanted pauses through ``send`` (one AMI action → its response) and keeps retrying,
    with back-off, the ones Asterisk does not hold; ``run`` is the retry loop of one AMI session."""

    def __init__(self, send: Callable[[dict[str, str]], Awaitable[dict[str, str]]], problems: dict[str, str]):
        super().__init__()
        self._send = send
        self._problems = problems
        self.wake = asyncio.Event()

    async def choose(self, interface: str, paused: bool, reason: str, *, connected: bool) -> None:
        """The workstation's choice: kept; sent now when connected, else at the next connect."""
        self.want(interface, paused, reason)
        if not connected:
            log.info("QueuePause deferred: the AMI link is down; applied when Asterisk is back")
            return
        try:
            await self.apply(interface)
        except PermissionDenied:
            raise
        except TelephonyError:
            self.wake.set()  # retried by the session's loop until Asterisk agrees
            raise

    async def apply(self, interface: str) -> None:
        wanted = self.wanted[interface]
        action = {
            "Action": "QueuePause",
            "Interface": interface,
            "Paused": "true" if wanted.paused else "false",
        }
        if wanted.reason and wanted.paused:
            action["Reason"] = wanted.reason
        resp = await self._send(action)
        if resp.get("Response") == "Success":
            self.acknowledged(interface)
            return
        message = resp.get("Message") or "QueuePause refused by Asterisk"
        if message == "Interface not found":
            self.not_a_member(interface)
        raise_refusal("QueuePause", resp, self._problems)
        raise TelephonyUnavailable(message)

    async def seed_from(self, source: PresenceSource | None, deadline_s: float) -> None:
        """Read the workstation's stored presence (at each connect); a failure keeps what is known."""
        if source is None:
            return
        try:
            self.seed(await asyncio.wait_for(source(), deadline_s))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the store may be down: the pauses chosen in this process still hold
            log.warning("wanted pauses could not be read (%s); using this process's", type(exc).__name__)

    async def run(self) -> None:
        """Re-send every pause Asterisk does not hold, with back-off, until it agrees."""
        delay = 0.5
        while True:
            await self.wake.wait()
            self.wake.clear()
            while pending := self.pending():
                failed = False
                for iface in pending:
                    try:
                        await self.apply(iface)
                    except PermissionDenied:
                        return  # nothing changes until manager.conf is fixed and the link comes back
                    except TelephonyError:
                        failed = True
                if not failed:
                    delay = 0.5
                    continue
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, 30.0)
