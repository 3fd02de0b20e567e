"""The websocket hub: one channel per user (fan-out to all their tabs) and one per role.

Messages go through the bus (``user.<id>``, ``role.<name>``) so that with Redis every server node
delivers to its own connections. A message is encoded to JSON once, on the node that sends it, however
many tabs and nodes get it (a role message reaches hundreds; ``workstation.bus.frames``). Each connection has a bounded queue in two lanes: call frames (the
screen pop) go out before anything else waiting for that tab; a browser too slow to keep up is cut off
(it reconnects and resyncs) rather than growing server memory or holding anything up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from typing import Any

from workstation.bus import Bus, Message
from workstation.bus.frames import frame_of

log = logging.getLogger(__name__)

PROTOCOL_VERSION = 1


def versioned(message: Message) -> Message:
    """Stamp the protocol version on an outgoing message (the one place it is written)."""
    message.setdefault("v", PROTOCOL_VERSION)
    return message


def text_of(message: Message) -> str:
    return frame_of(message).text


def _urgent(item: Message | None) -> bool:
    return item is None or str(item.get("type", "")).startswith("call.")


class Lanes(asyncio.Queue[Message | None]):
    """A tab's outgoing queue: call frames (and the close marker) before everything else, each lane in
    order. Bounded in total by ``maxsize``."""

    def _init(self, maxsize: int) -> None:
        self._urgent: deque[Message | None] = deque()
        self._queue: deque[Message | None] = deque()

    def _put(self, item: Message | None) -> None:
        (self._urgent if _urgent(item) else self._queue).append(item)

    def _get(self) -> Message | None:
        return self._urgent.popleft() if self._urgent else self._queue.popleft()

    def qsize(self) -> int:
        return len(self._urgent) + len(self._queue)

    def empty(self) -> bool:
        return not self._urgent and not self._queue

    def full(self) -> bool:
        return 0 < self.maxsize <= self.qsize()


class Connection:
    """One browser tab."""

    def __init__(self, user_id: int, role: str, queue_size: int, session: str | None = None):
        self.user_id = user_id
        self.role = role
        self.session = session
        self.close_code: int | None = None  # set when the server ends the connection (session revoked)
        self.queue: Lanes = Lanes(maxsize=queue_size)
        self.overflowed = False
        self.opened_at = time.time()

    def offer(self, message: Message) -> bool:
        """Queue a message; False (and the connection is marked for closing) when the queue is full."""
        if self.overflowed:
            return False
        try:
            self.queue.put_nowait(message)
            return True
        except asyncio.QueueFull:
            self.overflowed = True
            # wake the sender so it closes the socket
            try:
                self.queue.get_nowait()
                self.queue.put_nowait(None)
            except (asyncio.QueueEmpty, asyncio.QueueFull):
                pass
            return False


class Hub:
    def __init__(self, bus: Bus, queue_size: int = 256):
        self.bus = bus
        self.queue_size = queue_size
        self._by_user: dict[int, set[Connection]] = defaultdict(set)
        self._by_role: dict[str, set[Connection]] = defaultdict(set)
        self.dropped_slow = 0
        self.bus_failures = 0
        self._last_bus_warning = 0.0
        listeners = getattr(bus, "reconnect_listeners", None)
        if listeners is not None:
            listeners.append(self.resync_all)
        # a node parses a message from another node only when one of its own tabs is to get it
        bus.subscribe("user.*", self._on_user, accepts=self._has_user)
        bus.subscribe("role.*", self._on_role, accepts=self._has_role)

    # -- sending (any node) -------------------------------------------------------------------
    async def send_to_user(self, user_id: int, message: Message) -> None:
        await self._publish(f"user.{user_id}", versioned(message))

    async def send_to_role(self, role: str, message: Message) -> None:
        await self._publish(f"role.{role}", versioned(message))

    async def _publish(self, channel: str, message: Message) -> None:
        """Through the bus, which delivers to this node's own connections first, whatever happens to the
        other nodes' copy: with the bus away the pop still reaches an operator connected here, and the
        caller's work after the push goes on."""
        try:
            await self.bus.publish(channel, frame_of(message))
        except Exception as exc:
            self.bus_failures += 1
            now = time.monotonic()
            if now - self._last_bus_warning > 5:
                self._last_bus_warning = now
                log.warning("bus unavailable (%s): only this node's connections got it", type(exc).__name__)

    def _has_user(self, channel: str) -> bool:
        try:
            return int(channel[5:]) in self._by_user
        except ValueError:
            return False

    def _has_role(self, channel: str) -> bool:
        return bool(self._by_role.get(channel[5:]))

    async def resync_all(self) -> None:
        """Ask every connected tab of this node to reload its state (after the bus came back, messages
        meant for it may have gone to other nodes' void)."""
        message = versioned({"type": "resync"})
        for conns in list(self._by_user.values()):
            for conn in list(conns):
                conn.offer(dict(message))

    # -- delivery (this node's connections) ------------------------------------------------------
    async def _on_user(self, channel: str, message: Message) -> None:
        try:
            uid = int(channel.split(".", 1)[1])
        except ValueError:
            return
        conns = self._by_user.get(uid)
        if not conns:
            return
        frame = frame_of(message)
        for conn in list(conns):
            if not conn.offer(frame):
                self.dropped_slow += 1

    async def _on_role(self, channel: str, message: Message) -> None:
        conns = self._by_role.get(channel.split(".", 1)[1])
        if not conns:
            return
        frame = frame_of(message)
        for conn in list(conns):
            if not conn.offer(frame):
                self.dropped_slow += 1

    def close(self, conn: Connection, code: int = 4401) -> None:
        """End a connection from the server side (its session ended): the sender closes it with ``code``."""
        conn.close_code = code
        conn.overflowed = True
        try:
            conn.queue.put_nowait(None)
        except asyncio.QueueFull:
            try:
                conn.queue.get_nowait()
                conn.queue.put_nowait(None)
            except (asyncio.QueueEmpty, asyncio.QueueFull):
                pass

    def close_session(self, session: str) -> None:
        """Sign-out: close this node's connections of that session."""
        for conns in list(self._by_user.values()):
            for conn in list(conns):
                if conn.session == session:
                    self.close(conn)

    def close_user(self, user_id: int, keep_session: str | None = None) -> None:
        """Deactivation, password change: close the user's connections (but those of ``keep_session``)."""
        for conn in list(self._by_user.get(user_id, ())):
            if keep_session is None or conn.session != keep_session:
                self.close(conn)

    def sessions(self) -> set[str]:
        """The session tokens of this node's open connections."""
        return {c.session for conns in self._by_user.values() for c in conns if c.session}

    def close_ended(self, live: set[str], checked: set[str]) -> int:
        """Close the connections whose session was ``checked`` and is not in ``live``; returns how many.
        (A tab that connected while the check ran was not checked: it stays open until the next one.)"""
        ended = [
            c
            for conns in self._by_user.values()
            for c in conns
            if c.session and c.session in checked and c.session not in live
        ]
        for conn in ended:
            self.close(conn)
        return len(ended)

    def connections_per_user(self, user_id: int) -> int:
        return len(self._by_user.get(user_id, ()))

    def register(self, user_id: int, role: str, session: str | None = None) -> Connection:
        conn = Connection(user_id, role, self.queue_size, session)
        self._by_user[user_id].add(conn)
        self._by_role[role].add(conn)
        return conn

    def unregister(self, conn: Connection) -> None:
        self._by_user.get(conn.user_id, set()).discard(conn)
        if not self._by_user.get(conn.user_id):
            self._by_user.pop(conn.user_id, None)
        self._by_role.get(conn.role, set()).discard(conn)

    def connected_users(self) -> set[int]:
        return {uid for uid, conns in self._by_user.items() if conns}

    def stats(self) -> dict[str, Any]:
        return {
            "connections": sum(len(c) for c in self._by_user.values()),
            "users": len(self.connected_users()),
            "dropped_slow": self.dropped_slow,
            "bus_failures": self.bus_failures + getattr(self.bus, "remote_failures", 0),
        }
