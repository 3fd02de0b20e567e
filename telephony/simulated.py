"""The demo's PBX (``sim://``): the AMI simulator in-process, reached over TCP by the real ``AmiTelephony``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Sequence

from telephony.ami import AmiTelephony
from telephony.errors import TelephonyUnavailable
from telephony.ports import EventHandler
from telephony.presence import PresenceSource
from telephony.simulator import AmiSimulator

log = logging.getLogger(__name__)


class SimulatedTelephony:
    """The demo's PBX: an in-process ``AmiSimulator`` on 127.0.0.1 (OS-chosen port) and the real
    ``AmiTelephony`` client connected to it over TCP. With ``calls_per_min > 0`` and a population
    (``set_population``), random calls from the demo subscribers reach the demo operators."""

    def __init__(self, calls_per_min: float = 0.0, speed: float = 1.0) -> None:
        self._user, self._secret = "workstation", secrets.token_hex(12)
        self.simulator = AmiSimulator(self._user, self._secret)
        self.calls_per_min = calls_per_min
        self.speed = speed
        self.client: AmiTelephony | None = None
        self.callers: list[str] = []
        self.agents: list[tuple[str, str]] = []
        self._generator: asyncio.Task[None] | None = None
        self._presence: PresenceSource | None = None

    def set_presence_source(self, source: PresenceSource) -> None:
        self._presence = source
        if self.client is not None:
            self.client.set_presence_source(source)

    def set_population(
        self, callers: Sequence[str], agents: Sequence[tuple[str, str]], *, signed_out: bool = False
    ) -> None:
        """Caller numbers (demo subscribers) and (interface, name) operators for generated calls.
        ``signed_out``: the operators start paused ("Offline") until the workstation unpauses them
        (an operator signs in and is Ready), so nobody is rung before they are there."""
        self.callers, self.agents = list(callers), list(agents)
        for iface, name in self.agents:
            self.simulator.state.add_member("support", iface, name)
            if signed_out:
                member = self.simulator.state.members[("support", iface)]
                member.fields.update(Paused="1", PausedReason="Offline")

    async def start(self, handler: EventHandler) -> None:
        port = await self.simulator.start("127.0.0.1", 0)
        self.client = AmiTelephony("127.0.0.1", port, self._user, self._secret, backoff_max=5.0)
        if self._presence is not None:
            self.client.set_presence_source(self._presence)
        await self.client.start(handler)
        if self.calls_per_min > 0:
            self._generator = asyncio.create_task(self._generate(), name="sim-calls")

    async def _generate(self) -> None:
        while True:
            if not self.callers or not self.agents:
                await asyncio.sleep(1.0)
                continue
            try:
                await self.simulator.run_calls(
                    self.calls_per_min / 60.0,
                    self.callers,
                    self.agents,
                    duration_s=60.0,
                    speed=self.speed,
                    wait=False,
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("simulated call generator failed")
                await asyncio.sleep(5.0)

    async def stop(self) -> None:
        if self._generator is not None:
            self._generator.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._generator
        if self.client is not None:
            await self.client.stop()
        await self.simulator.stop()

    async def pause(self, interface: str, paused: bool, reason: str = "") -> None:
        if self.client is None:
            raise TelephonyUnavailable("simulated telephony is not started")
        await self.client.pause(interface, paused, reason)

    async def originate(self, extension: str, number: str, caller_id: str | None = None) -> str:
        if self.client is None:
            raise TelephonyUnavailable("simulated telephony is not started")
        return await self.client.originate(extension, number, caller_id)

    async def drain(self) -> None:
        """Every event the simulator sent so far has been handled (see ``AmiTelephony.drain``)."""
        if self.client is not None:
            await self.client.drain()

    def health(self) -> dict[str, object]:
        base = self.client.health() if self.client else {"state": "down", "connected": False, "problems": []}
        return {**base, "simulated": True, "calls_per_min": self.calls_per_min}
