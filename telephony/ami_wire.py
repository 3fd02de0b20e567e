"""panoramisk's AMI protocol, skipping unwanted events before they are parsed.

Asterisk sends some 100 events per queue call (``Newexten``, ``VarSet``, ``Newstate``, …) and the
normaliser needs about fifteen of them. panoramisk builds a case-insensitive ``Message`` for every one
first: that was half the event loop's time on a busy floor (``benchmarks/screen_pop.py`` under
py-spy), time every screen pop waited behind. Here an event is dropped on its first line when its name
is not wanted; responses, event-list items (they carry an ``ActionID``) and ``Shutdown`` always go through
panoramisk unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from panoramisk import utils
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from telephony.protocol import MAX_FRAME_BYTES

log = logging.getLogger(__name__)

ALWAYS = frozenset({"Shutdown", "FullyBooted"})
_SEP = utils.EOL + utils.EOL


class SkippingProtocol(AMIProtocol):  # type: ignore[misc]
    """``AMIProtocol`` whose ``data_received`` parses only the events ``wants(name)`` accepts."""

    def __init__(self, wants: Callable[[str], bool]) -> None:
        super().__init__()
        self._wants = wants
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
            if self._skip(raw):
                self.skipped += 1
                continue
            message = Message.from_line(raw)
            if message is not None:
                self.handle_message(message)

    def _skip(self, raw: str) -> bool:
        if not raw.startswith("Event: ") or "\nActionID: " in raw:
            return False
        name = raw[7 : raw.find("\r", 7)] if "\r" in raw else raw[7:]
        return name not in ALWAYS and not self._wants(name)
