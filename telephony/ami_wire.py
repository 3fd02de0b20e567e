"""panoramisk's AMI protocol, skipping unwanted events before they are parsed.

Asterisk sends some 100 events per queue call (``Newexten``, ``VarSet``, ``Newstate``, …) and the
normaliser needs about fifteen of them. panoramisk builds a case-insensitive ``Message`` for every one
first: that was half the event loop's time on a busy floor (``benchmarks/screen_pop.py`` under
py-spy), time every screen pop waited behind. Here an event is dropped on its first line when its name
is not wanted, and a wanted one is read straight into the plain dict the normaliser takes (first value
of a repeated header, as ``to_dict`` below gives) and handed to ``on_event``. Responses, event-list items
(they carry an ``ActionID``), ``Shutdown`` and ``FullyBooted`` always go through panoramisk unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from panoramisk import Manager, utils
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from telephony.errors import TelephonyUnavailable
from telephony.protocol import MAX_FRAME_BYTES

log = logging.getLogger(__name__)

# panoramisk logs whole actions and events (phone numbers) at INFO/DEBUG: keep its logger at WARNING
WIRE_LOG = logging.getLogger("telephony.ami.wire")
WIRE_LOG.setLevel(logging.WARNING)

ALWAYS = frozenset({"Shutdown", "FullyBooted"})
_SEP = utils.EOL + utils.EOL


class SkippingProtocol(AMIProtocol):  # type: ignore[misc]
    """``AMIProtocol`` whose ``data_received`` parses only the events ``wants(name)`` accepts."""

    def __init__(
        self, wants: Callable[[str], bool], on_event: Callable[[Any, dict[str, str]], None] | None = None
    ) -> None:
        super().__init__()
        self._wants = wants
        self._on_event = on_event  # (the manager behind this protocol, the event's headers)
        self.skipped = 0
        self.oversized = 0
        self._discarding = False  # inside a frame that outgrew MAX_FRAME_BYTES: skip to its end

    def data_received(self, data: bytes) -> None:
        text = data.decode(getattr(self, "encoding", "ascii"), "ignore")
        if getattr(self, "version", None) is None and text.startswith("Asterisk Call Manager/"):
            self.version = text.partition(utils.EOL)[0].partition("/")[2].strip()
        if self.queue:
            text = self.queue.popleft() + text
        messages = text.split(_SEP)
        rest = messages.pop()
        if self._discarding and messages:  # the oversized frame ends here: its tail is not a message
            messages.pop(0)
            self._discarding = False
        if len(rest) > MAX_FRAME_BYTES or (self._discarding and not messages):
            # a peer that never terminates its frame must not grow memory (and re-scan it on every read)
            if not self._discarding:
                self.oversized += 1
                log.warning("AMI frame over %d bytes without terminator dropped", MAX_FRAME_BYTES)
            self._discarding = True
            rest = ""
        self.queue.append(rest)
        for raw in messages:
            raw = raw.strip()
            if raw.startswith("Event: ") and "\nActionID: " not in raw:
                end = raw.find("\r", 7)
                name = raw[7:end] if end >= 0 else raw[7:]
                if name not in ALWAYS:
                    if not self._wants(name):
                        self.skipped += 1
                    elif self._on_event is not None:
                        self._on_event(self.factory, _headers(raw))
                    else:
                        self.handle_message(Message.from_line(raw))
                    continue
            message = Message.from_line(raw)
            if message is not None:
                self.handle_message(message)


def _headers(raw: str) -> dict[str, str]:
    """``Key: Value`` lines as a dict, the first of repeated keys kept (values as sent)."""
    out: dict[str, str] = {}
    for line in raw.split(utils.EOL):
        key, sep, value = line.partition(": ")
        if sep and key not in out:
            out[key] = value
    return out


class OwnedManager(Manager):  # type: ignore[misc]
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


def to_dict(message: Any) -> dict[str, str]:
    """A panoramisk Message as ``dict[str, str]`` (first value of a repeated header)."""
    out: dict[str, str] = {}
    for k, v in message.items():
        if k == "content":
            continue
        out[k] = str(v[0] if isinstance(v, list) and v else v)
    return out
