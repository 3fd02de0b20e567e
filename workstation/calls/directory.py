"""Maps an Asterisk agent interface / extension to the operator (user id) it belongs to."""

from __future__ import annotations

import re
import time

from sqlalchemy import select

from workstation.db import Database
from workstation.models import User

_EXT = re.compile(r"^(?:[A-Za-z]+)/(\d+)")


def extension_of(interface: str) -> str | None:
    m = _EXT.match(interface or "")
    return m.group(1) if m else None


class AgentDirectory:
    def __init__(self, db: Database, refresh_s: float = 5.0):
        self.db = db
        self.refresh_s = refresh_s
        self._by_interface: dict[str, int] = {}
        self._by_extension: dict[str, int] = {}
        self._interface_of: dict[int, str] = {}
        self._loaded_at = 0.0

    def load(self) -> None:
        with self.db.session() as s:
            rows = s.execute(
                select(User.id, User.interface, User.extension).where(User.active.is_(True))
            ).all()
        self._by_interface = {r.interface: r.id for r in rows if r.interface}
        self._interface_of = {r.id: r.interface for r in rows if r.interface}
        self._by_extension = {r.extension: r.id for r in rows if r.extension}
        self._loaded_at = time.monotonic()

    def user_for(self, agent: str, extension: str | None = None) -> int | None:
        """From memory only (the pop path never waits for the DB); see ``stale`` and ``load``."""
        return self._lookup(agent, extension)

    def interface_of(self, user_id: int) -> str | None:
        return self._interface_of.get(user_id)

    def stale(self) -> bool:
        """Worth reloading after a miss (at most every ``refresh_s``)."""
        return time.monotonic() - self._loaded_at > self.refresh_s

    def _lookup(self, agent: str, extension: str | None) -> int | None:
        if agent in self._by_interface:
            return self._by_interface[agent]
        ext = extension or extension_of(agent)
        return self._by_extension.get(ext) if ext else None

    def is_agent_number(self, number: str) -> bool:
        return number in self._by_extension
