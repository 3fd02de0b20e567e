"""``AmiTelephony``: the ``Telephony`` port on a real Asterisk manager interface, through panoramisk.

One supervisor task owns the connection: connect, ``Login``, resync (``CoreShowChannels`` +
``QueueStatus`` → ``Normaliser.resync``), then listen; a keep-alive ``Ping`` every ``ping_interval``
detects a dead peer; on any loss it reconnects with exponential back-off (with jitter) up to
``backoff_max``. panoramisk's own fixed-delay reconnect and action re-sending are switched off so an
``Originate`` is never silently sent twice. Call events go to the handler in order from one
dispatcher task; a failing handler is logged and does not stop the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import time
from collections import deque
from typing import Any

from panoramisk import Manager

from telephony.ami_wire import SkippingProtocol
from telephony.channels import AgentBook
from telephony.errors import AuthenticationFailed, OriginateRejected, TelephonyUnavailable
from telephony.events import CallEvent, TelephonyLink
from telephony.normaliser import Msg, Normaliser
from telephony.ports import EventHandler

log = logging.getLogger(__name__)

# panoramisk logs whole actions and events (phone numbers) at INFO/DEBUG: keep its logger at WARNING
WIRE_LOG = logging.getLogger("telephony.ami.wire")
WIRE_LOG.setLevel(logging.WARNING)

_SAFE = re.compile(r"^[^\r\n]{1,128}$")
_NUMBER = re.compile(r"^\+?[0-9*#]{2,20}$")


class _Manager(Manager):  # type: ignore[misc]
    """panoramisk Manager whose reconnection is driven by AmiTelephony, not by itself."""

    def __init__(self, on_lost: Any, **config: Any) -> None:
        super().__init__(**config)
        self._on_lost = on_lost

    def ping(self) -> None:  # our own keep-alive measures the answer; panoramisk's does not
        self.pinger = None

    def connection_lost(self, exc: Any) -> None:
        self._connected = False
        self.authenticated = False
        if self.pinger:
            self.pinger.cancel()
            self.pinger = None
        while self.awaiting_actions:  # never re-send actions on the next connection
            action = self.awaiting_actions.popleft()
            if not action.future.done():
                action.future.set_exception(TelephonyUnavailable("AMI connection lost"))
        self._on_lost(exc)


def to_dict(message: Any) -> Msg:
    """A panoramisk Message as ``dict[str, str]`` (first value of a repeated header)."""
    out: Msg = {}
    for k, v in message.items():
        if k == "content":
            continue
        out[k] = str(v[0] if isinstance(v, list) and v else v)
    return out


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
        backoff_max: float = 30.0,
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
        self._handler: EventHandler | None = None
        self._manager: _Manager | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._out: asyncio.Queue[CallEvent] = asyncio.Queue()
        self._buffer: list[Msg] | None = None
        self._lanes: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.connected = False
        self.since: float | None = None
        self.reconnects = 0
        self.last_error: str | None = None
        self.logged_in = asyncio.Event()

    # ------------------------------------------------------------------ port
    async def start(self, handler: EventHandler) -> None:
        self._handler = handler
        self._stopping = False
        self._dispatcher = asyncio.create_task(self._dispatch(), name="ami-dispatch")
        self._supervisor = asyncio.create_task(self._supervise(), name="ami-supervisor")

    async def stop(self) -> None:
        self._stopping = True
        for task in (self._supervisor, self._dispatcher, *self._lanes):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._close_manager()
        self.connected = False

    def health(self) -> dict[str, object]:
        """``connected``; ``since``: epoch of the last up/down change; ``reconnects``: attempts so far."""
        return {
            "connected": self.connected,
            "since": self.since,
            "reconnects": self.reconnects,
            "last_error": self.last_error,
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
            raise OriginateRejected(resp.get("Message") or "Originate refused by Asterisk")
        return resp.get("ActionID", "")

    async def pause(self, interface: str, paused: bool, reason: str = "") -> None:
        """``QueuePause`` in every queue of this member: a paused operator is not rung (wrap-up, break)."""
        if not interface or not _SAFE.match(interface) or (reason and not _SAFE.match(reason)):
            raise ValueError("interface and reason must be single lines")
        action = {"Action": "QueuePause", "Interface": interface, "Paused": "true" if paused else "false"}
        if reason and paused:
            action["Reason"] = reason
        resp = await self._send(action)
        if resp.get("Response") != "Success":
            raise TelephonyUnavailable(resp.get("Message") or "QueuePause refused by Asterisk")

    # ------------------------------------------------------------------ connection
    async def _send(self, action: dict[str, str]) -> Msg:
        manager = self._manager
        if manager is None or not self.connected and action["Action"] != "Login":
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

    async def _send_list(self, manager: _Manager, action: str) -> list[Msg] | None:
        """The items of an event-list action; None when Asterisk refuses it (e.g. missing permission)."""
        resp = await asyncio.wait_for(
            manager.send_action({"Action": action}, as_list=None), self.action_timeout
        )
        items = resp if isinstance(resp, list) else [resp]
        if not items or items[0].get("Response") not in ("Success", "Follows"):
            reason = items[0].get("Message", "") if items else ""
            log.error("AMI %s refused (%s): the AMI user needs read=system,reporting", action, reason)
            return None
        return [to_dict(m) for m in items if "event" in m]

    async def _supervise(self) -> None:
        delay = self.backoff_initial
        while not self._stopping:
            began = time.monotonic()
            try:
                await self._session()
            except AuthenticationFailed as exc:
                self.last_error = str(exc)
                log.error(
                    "AMI login refused by %s:%s: check the AMI user and WORKSTATION_AMI_SECRET",
                    self.host,
                    self.port,
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
                delay = self.backoff_initial  # the last session was healthy: start the back-off again
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.backoff_max)
            self.reconnects += 1

    async def _session(self) -> None:
        loop = asyncio.get_running_loop()
        lost: asyncio.Future[Any] = loop.create_future()

        def on_lost(exc: Any) -> None:
            if not lost.done():
                lost.set_result(exc)

        manager = _Manager(
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
            loop.create_connection(lambda: SkippingProtocol(self.normaliser.wants), self.host, self.port),
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
            raise AuthenticationFailed(resp.get("Message") or "authentication failed")
        self.connected = True
        self.since = time.time()
        self._emit([TelephonyLink("", self.since, up=True, detail=f"{self.host}:{self.port}")])
        await self._resync(manager)
        self.last_error = None
        self.logged_in.set()
        log.info("AMI connected to %s:%s", self.host, self.port)
        keepalive = asyncio.create_task(self._keepalive(manager))
        try:
            await lost
        finally:
            keepalive.cancel()
        raise TelephonyUnavailable("AMI connection lost")

    async def _resync(self, manager: _Manager) -> None:
        """Status snapshot while live events are held back, then the held events in order."""
        channels = await self._send_list(manager, "CoreShowChannels")
        queues = await self._send_list(manager, "QueueStatus")
        if channels is not None:  # without the channel list no call can be declared over
            self._emit(self.normaliser.resync(channels, queues or []))
        held, self._buffer = self._buffer or [], None
        for msg in held:
            self._emit(self.normaliser.feed(msg))
        log.info("AMI resync: %d live calls", len(self.normaliser.calls))

    async def _keepalive(self, manager: _Manager) -> None:
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
        if manager is not self._manager or not self.normaliser.wants(message.get("Event", "")):
            return  # most of what Asterisk sends (VarSet, Newexten, …) is not for us: skip it cheaply
        msg = to_dict(message)
        if self._buffer is not None:
            self._buffer.append(msg)
            return
        self._emit(self.normaliser.feed(msg))

    def _emit(self, events: list[CallEvent]) -> None:
        for ev in events:
            self._out.put_nowait(ev)
        if self._out.qsize() > 1000:
            log.warning("call event handler is behind: %d events waiting", self._out.qsize())

    async def _dispatch(self) -> None:
        """Deliver in order per call, calls concurrently: a slow card lookup for one call never delays
        the pop of another (events without a call id share one lane)."""
        lanes: dict[str, deque[CallEvent]] = {}
        while True:
            ev = await self._out.get()
            lane = lanes.get(ev.call_id)
            if lane is not None:
                lane.append(ev)
                continue
            lanes[ev.call_id] = deque([ev])
            task = asyncio.create_task(self._run_lane(ev.call_id, lanes))
            self._lanes.add(task)
            task.add_done_callback(self._lanes.discard)

    async def _run_lane(self, key: str, lanes: dict[str, deque[CallEvent]]) -> None:
        lane = lanes[key]
        try:
            while lane:
                ev = lane.popleft()
                if self._handler is None:
                    continue
                try:
                    await self._handler(ev)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("call event handler failed on %s", type(ev).__name__)
        finally:
            lanes.pop(key, None)
