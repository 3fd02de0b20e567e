"""``AmiTelephony``: the ``Telephony`` port on a real Asterisk manager interface, through panoramisk.

One supervisor task owns the connection: connect, ``Login``, check what the AMI user may do (a refused
``QueuePause`` probe is reported as a missing ``write = agent``), resync (``CoreShowChannels`` +
``QueueStatus`` → ``Normaliser.resync``), reconcile the queue-member pauses with the ones the
workstation wants (``telephony.presence``), then listen; a keep-alive ``Ping`` every ``ping_interval``
detects a dead peer; on any loss it reconnects with exponential back-off (with jitter) up to
``backoff_max``, starting again from ``backoff_initial`` after every good login. panoramisk's own
fixed-delay reconnect and action re-sending are switched off so an ``Originate`` is never silently sent
twice. Call events go to the handler in order per call through ``telephony.lanes``; a failing handler is
logged and does not stop the stream. panoramisk's Manager and the event fast path are in ``ami_wire``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import time
from typing import Any

from telephony.ami_wire import WIRE_LOG, OwnedManager, SkippingProtocol, to_dict
from telephony.channels import AgentBook
from telephony.errors import (
    AsteriskShuttingDown,
    AuthenticationFailed,
    OriginateRejected,
    TelephonyUnavailable,
)
from telephony.events import CallEvent, TelephonyLink
from telephony.lanes import CallLanes
from telephony.normaliser import Msg, Normaliser
from telephony.permissions import (
    PERMISSION_DENIED,
    SHUTTING_DOWN,
    needed,
    probe_permissions,
    problem_id,
    raise_refusal,
)
from telephony.ports import EventHandler
from telephony.presence import PauseKeeper, PresenceSource

log = logging.getLogger(__name__)

_SAFE = re.compile(r"^[^\r\n]{1,128}$")
_NUMBER = re.compile(r"^\+?[0-9*#]{2,20}$")


class AmiTelephony:
    """Listens to Asterisk over AMI, normalises its events, and places click-to-dial calls."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        ping_interval: float = 10.0,
        action_timeout: float = 10.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 5.0,
        originate_context: str = "default",
        channel_template: str = "PJSIP/{extension}",
        agent_contexts: tuple[str, ...] = ("agents",),
    ) -> None:
        self.host, self.port = host, port
        self._username, self._secret = username, secret
        self.ping_interval = ping_interval
        self.action_timeout = action_timeout
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.originate_context = originate_context
        self.channel_template = channel_template
        self.normaliser = Normaliser(AgentBook(agent_contexts=frozenset(agent_contexts)))
        self._manager: OwnedManager | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self.lanes = CallLanes()  # call events in order per call, to the handler
        self._buffer: list[Msg] | None = None
        self._stopping = False
        self.connected = False
        self.since: float | None = None
        self.reconnects = 0
        self.last_error: str | None = None
        self.logged_in = asyncio.Event()
        self.backoff_delay = backoff_initial
        self.problems: dict[str, str] = {}  # problem id -> what to fix (missing permissions)
        self.pauses = PauseKeeper(self._send, self.problems)
        self.presence_source: PresenceSource | None = None

    # ------------------------------------------------------------------ port
    async def start(self, handler: EventHandler) -> None:
        self.lanes.handler = handler
        self._stopping = False
        self._dispatcher = asyncio.create_task(self.lanes.run(), name="ami-dispatch")
        self._supervisor = asyncio.create_task(self._supervise(), name="ami-supervisor")

    async def stop(self) -> None:
        self._stopping = True
        for task in (self._supervisor, self._dispatcher, *self.lanes.tasks):
            if task is None:
                continue
            # Python 3.11's wait_for can swallow a cancellation that lands as its inner await completes
            # (fixed in 3.12): cancel again until the task has really ended, or stop would wait for ever
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=1.0)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._close_manager()
        self.connected = False

    def set_presence_source(self, source: PresenceSource) -> None:
        """Where the wanted pauses of members not paused in this process come from (read at each connect)."""
        self.presence_source = source

    def health(self) -> dict[str, object]:
        """``state``: ``ok``, ``degraded`` (connected, but ``problems`` lists what the AMI user may not do)
        or ``down``; ``since``: epoch of the last up/down change; ``reconnects``: attempts so far;
        ``pauses_pending``: members whose pause Asterisk does not hold yet."""
        problems = [{"id": k, "message": v} for k, v in sorted(self.problems.items())]
        state = "down" if not self.connected else "degraded" if problems else "ok"
        return {
            "state": state,
            "connected": self.connected,
            "since": self.since,
            "reconnects": self.reconnects,
            "last_error": self.last_error,
            "problems": problems,
            "pauses_pending": len(self.pauses.pending()),
            "live_calls": len(self.normaliser.calls),
        }

    async def originate(self, extension: str, number: str, caller_id: str | None = None) -> str:
        """Ring ``extension`` (or an interface such as ``PJSIP/1001``), then dial ``number``."""
        if not extension or not _SAFE.match(extension):
            raise ValueError("extension must be a non-empty single line")
        if not _NUMBER.match(number or ""):
            raise ValueError("number must be digits (optionally with a leading +)")
        if caller_id is not None and not _SAFE.match(caller_id):
            raise ValueError("caller_id must be a single line")
        channel = extension if "/" in extension else self.channel_template.format(extension=extension)
        action = {
            "Action": "Originate",
            "Channel": channel,
            "Context": self.originate_context,
            "Exten": number,
            "Priority": "1",
            "CallerID": caller_id or number,
            "Async": "true",
        }
        resp = await self._send(action)
        if resp.get("Response") != "Success":
            raise_refusal("Originate", resp, self.problems)
            raise OriginateRejected(resp.get("Message") or "Originate refused by Asterisk")
        return resp.get("ActionID", "")

    async def pause(self, interface: str, paused: bool, reason: str = "") -> None:
        """``QueuePause`` in every queue of this member: a paused operator is not rung (wrap-up, break).

        The choice is kept (the workstation is the source of truth): while the link is down it is applied
        at the next connect; when Asterisk refuses it for a passing reason it is retried until Asterisk
        agrees; after an Asterisk restart it is applied again."""
        if not interface or not _SAFE.match(interface) or (reason and not _SAFE.match(reason)):
            raise ValueError("interface and reason must be single lines")
        await self.pauses.choose(interface, paused, reason, connected=self.connected)

    # ------------------------------------------------------------------ connection
    async def _send(self, action: dict[str, str]) -> Msg:
        manager = self._manager
        if manager is None or (not self.connected and action["Action"] != "Login"):
            raise TelephonyUnavailable("not connected to Asterisk")
        try:
            resp = await asyncio.wait_for(
                manager.send_action(dict(action), as_list=False), self.action_timeout
            )
        except TimeoutError:
            raise TelephonyUnavailable(
                f"no answer to {action['Action']} within {self.action_timeout}s"
            ) from None
        return to_dict(resp)

    async def _ask(self, manager: OwnedManager, action: dict[str, str]) -> Msg:
        resp = await asyncio.wait_for(manager.send_action(dict(action), as_list=False), self.action_timeout)
        return to_dict(resp)

    async def _send_list(self, manager: OwnedManager, action: str) -> list[Msg] | None:
        """The items of an event-list action; None when Asterisk refuses it (e.g. missing permission)."""
        resp = await asyncio.wait_for(
            manager.send_action({"Action": action}, as_list=None), self.action_timeout
        )
        items = resp if isinstance(resp, list) else [resp]
        if not items or items[0].get("Response") not in ("Success", "Follows"):
            reason = items[0].get("Message", "") if items else ""
            log.error("AMI %s refused (%s): the AMI user needs write = %s", action, reason, needed(action))
            if reason == PERMISSION_DENIED:
                self.problems[problem_id(action)] = (
                    f"{action}: Permission denied; the AMI user needs write = {needed(action)}"
                )
            return None
        return [to_dict(m) for m in items if "event" in m]

    async def _supervise(self) -> None:
        while not self._stopping:
            began = time.monotonic()
            try:
                await self._session()
            except AsteriskShuttingDown as exc:
                self.last_error = str(exc)
                log.warning("Asterisk at %s:%s is shutting down; reconnecting", self.host, self.port)
            except AuthenticationFailed as exc:
                self.last_error = str(exc)
                log.error(
                    "AMI login refused by %s:%s (%s): check the AMI user and WORKSTATION_AMI_SECRET",
                    self.host,
                    self.port,
                    str(exc)[:200],
                )
            except (OSError, TimeoutError, TelephonyUnavailable, ConnectionError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("AMI %s:%s unavailable: %s", self.host, self.port, self.last_error)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep listening whatever happened
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("AMI session failed")
            await self._link_down()
            if self._stopping:
                break
            if time.monotonic() - began > 30:
                self.backoff_delay = self.backoff_initial  # a long healthy session: start again
            await asyncio.sleep(self.backoff_delay * random.uniform(0.8, 1.2))
            self.backoff_delay = min(self.backoff_delay * 2, self.backoff_max)
            self.reconnects += 1

    async def _session(self) -> None:
        loop = asyncio.get_running_loop()
        lost: asyncio.Future[Any] = loop.create_future()

        def on_lost(exc: Any) -> None:
            if not lost.done():
                lost.set_result(exc)

        manager = OwnedManager(
            on_lost,
            log=WIRE_LOG,
            loop=loop,
            host=self.host,
            port=self.port,
            username=self._username,
            secret=self._secret,
            events="on",
            ping_delay=3600,
        )
        manager.register_event("*", self._on_event)
        self._manager = manager
        self._buffer = []
        transport, protocol = await asyncio.wait_for(
            loop.create_connection(
                lambda: SkippingProtocol(self.normaliser.wants, self._on_msg), self.host, self.port
            ),
            self.action_timeout,
        )
        done: asyncio.Future[Any] = loop.create_future()
        done.set_result((transport, protocol))
        manager.connection_made(done)  # panoramisk sets the protocol up and sends Login
        auth = manager.authenticated_future
        await asyncio.wait({auth, lost}, timeout=self.action_timeout, return_when=asyncio.FIRST_COMPLETED)
        if not auth.done():
            raise TelephonyUnavailable("no answer to Login" if not lost.done() else "closed during Login")
        resp = auth.result()
        if not resp.success:
            if resp.get("Message") == SHUTTING_DOWN:
                raise AsteriskShuttingDown(SHUTTING_DOWN)
            raise AuthenticationFailed(resp.get("Message") or "authentication failed")
        self._logged_in_ok()
        self.problems.clear()
        self.problems.update(
            await probe_permissions(lambda action: self._ask(manager, action), f"AMI user {self._username!r}")
        )
        self.connected = True
        self.since = time.time()
        self._emit([TelephonyLink("", self.since, up=True, detail=f"{self.host}:{self.port}")])
        await self._resync(manager)
        self.last_error = None
        self.logged_in.set()
        log.info("AMI connected to %s:%s", self.host, self.port)
        tasks = [asyncio.create_task(self._keepalive(manager)), asyncio.create_task(self.pauses.run())]
        self.pauses.wake.set()
        try:
            await lost
        finally:
            for task in tasks:
                task.cancel()
        raise TelephonyUnavailable("AMI connection lost")

    async def _resync(self, manager: OwnedManager) -> None:
        """Status snapshot while live events are held back, then the held events in order."""
        channels = await self._send_list(manager, "CoreShowChannels")
        queues = await self._send_list(manager, "QueueStatus")
        if channels is not None:  # without the channel list no call can be declared over
            self._emit(self.normaliser.resync(channels, queues or []))
        await self.pauses.seed_from(self.presence_source, self.action_timeout)
        if queues is not None:
            self.pauses.compare(queues)
        held, self._buffer = self._buffer or [], None
        for msg in held:
            self._emit(self.normaliser.feed(msg))
        log.info(
            "AMI resync: %d live calls, %d member pauses to re-apply",
            len(self.normaliser.calls),
            len(self.pauses.pending()),
        )

    def _logged_in_ok(self) -> None:
        """A good login: the back-off starts again, so the next drop is retried at once."""
        self.backoff_delay = self.backoff_initial

    async def _keepalive(self, manager: OwnedManager) -> None:
        while True:
            await asyncio.sleep(self.ping_interval)
            try:
                await asyncio.wait_for(
                    manager.send_action({"Action": "Ping"}, as_list=False), self.action_timeout
                )
            except (TimeoutError, TelephonyUnavailable):
                log.warning("AMI ping unanswered; reconnecting")
                if manager.protocol is not None:
                    manager.protocol.transport.abort()
                return

    async def _link_down(self) -> None:
        self.logged_in.clear()
        was_up = self.connected
        self.connected = False
        if was_up:
            self.since = time.time()
        self._buffer = None
        self._close_manager()
        if was_up:
            self._emit([TelephonyLink("", time.time(), up=False, detail=self.last_error or "")])

    def _close_manager(self) -> None:
        manager, self._manager = self._manager, None
        if manager is not None and manager.protocol is not None:
            with contextlib.suppress(Exception):
                manager.protocol.transport.abort()

    # ------------------------------------------------------------------ events
    def _on_event(self, manager: Any, message: Any) -> None:
        name = message.get("Event", "")
        if manager is not self._manager or not self.normaliser.wants(name):
            if name == "Shutdown" and manager is self._manager:
                self.last_error = SHUTTING_DOWN
                log.warning(
                    "Asterisk at %s:%s is shutting down (restart: %s)",
                    self.host,
                    self.port,
                    message.get("Restart", "?"),
                )
            return  # most of what Asterisk sends (VarSet, Newexten, …) is not for us: skip it cheaply
        self._on_msg(manager, to_dict(message))

    def _on_msg(self, manager: Any, msg: Msg) -> None:
        """A wanted event as a plain dict: from the wire's fast path (``ami_wire``) or from panoramisk."""
        if manager is not self._manager:
            return
        name = msg.get("Event", "")
        if (
            name in ("QueueMemberPause", "QueueMemberStatus", "QueueMemberAdded")
            and msg.get("Interface")
            and self.pauses.observe(msg["Interface"], msg.get("Paused") == "1")
        ):
            self.pauses.wake.set()  # Asterisk disagrees with the workstation: apply it again
        if self._buffer is not None:
            self._buffer.append(msg)
            return
        self._emit(self.normaliser.feed(msg))

    def _emit(self, events: list[CallEvent]) -> None:
        self.lanes.put(events)

    async def drain(self) -> None:
        """Wait until every event Asterisk sent so far has been handled: one round trip first (what
        Asterisk wrote before its answer has been read), then the dispatch queue and every lane empty.
        Tests and the demo use it instead of sleeping."""
        await self._send({"Action": "Ping"})
        await self.lanes.drain()
