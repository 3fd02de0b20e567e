"""The AMI protocol that skips unwanted events unparsed: on a real capture it hands panoramisk's
dispatcher exactly the events the normaliser handles, and every response, whatever the chunking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from telephony.ami_wire import SkippingProtocol, to_dict
from telephony.normaliser import Normaliser
from telephony.protocol import encode, read_trace


class Recorder:
    """Stands where panoramisk's Manager sits behind the protocol: what reaches ``dispatch``."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.lost: list[Any] = []
        self.forgetable_actions: tuple[str, ...] = ()
        self.awaiting_actions: list[Any] = []

    def dispatch(self, message: Any) -> None:
        self.events.append(dict(message))

    def connection_lost(self, exc: Any) -> None:
        self.lost.append(exc)


class Transport:
    closed = False

    def close(self) -> None:
        self.closed = True


def feed(protocol: AMIProtocol, data: bytes, chunk: int) -> Recorder:
    protocol.connection_made(Transport())
    rec = Recorder()
    protocol.factory = rec
    for i in range(0, len(data), chunk):
        protocol.data_received(data[i : i + chunk])
    return rec


@pytest.mark.parametrize("chunk", [7, 1500, 65536])
@pytest.mark.parametrize("name", ["queue_answered.txt", "queue_ringnoanswer.txt", "direct_call.txt"])
def test_only_wanted_events_are_parsed_and_none_is_lost(traces_dir: Path, name: str, chunk: int) -> None:
    _, frames = read_trace(traces_dir / name)
    data = b"Asterisk Call Manager/11.0.0\r\n" + b"".join(encode(f) for f in frames)
    wants = Normaliser().wants
    everything = feed(AMIProtocol(), data, chunk).events
    skipping = SkippingProtocol(wants)
    kept = feed(skipping, data, chunk).events
    expected = [
        e
        for e in everything
        if wants(e["Event"]) or e["Event"] in ("Shutdown", "FullyBooted") or "ActionID" in e  # answers
    ]
    assert kept == expected
    assert skipping.skipped == len(everything) - len(expected) > len(expected)  # most are skipped


def test_event_list_items_and_shutdown_go_through() -> None:
    data = (
        b"Event: CoreShowChannel\r\nActionID: 42\r\nChannel: PJSIP/1001-1\r\n\r\n"
        b"Event: VarSet\r\nVariable: X\r\n\r\n"
        b"Event: Shutdown\r\nShutdown: Cleanly\r\n\r\n"
    )
    protocol = SkippingProtocol(lambda name: False)
    rec = feed(protocol, data, 4096)
    # the list item has an ActionID but no waiting action here, so it is dispatched as an event;
    # the skipped VarSet never is; Shutdown closes the connection and is dispatched
    assert [e["Event"] for e in rec.events] == ["CoreShowChannel", "Shutdown"]
    assert protocol.skipped == 1
    assert protocol.transport.closed
    assert len(rec.lost) == 1


@pytest.mark.parametrize("name", ["queue_answered.txt", "queue_ringnoanswer.txt", "queue_abandon.txt"])
def test_wanted_events_reach_the_handler_as_the_dicts_panoramisk_would_give(
    traces_dir: Path, name: str
) -> None:
    _, frames = read_trace(traces_dir / name)
    data = b"Asterisk Call Manager/11.0.0\r\n" + b"".join(encode(f) for f in frames)
    wants = Normaliser().wants
    slow = [to_dict(Message(e)) for e in feed(AMIProtocol(), data, 1500).events]
    fast: list[dict[str, str]] = []
    protocol = SkippingProtocol(wants, lambda manager, msg: fast.append(msg))
    dispatched = feed(protocol, data, 1500).events
    assert fast == [m for m in slow if wants(m["Event"]) and "ActionID" not in m]
    assert all(not wants(e["Event"]) or "ActionID" in e for e in dispatched)  # only answers, FullyBooted…


def test_an_unterminated_frame_is_dropped_not_buffered_and_the_link_goes_on() -> None:
    """A peer sending 8 MB with no end of frame: the client keeps at most one frame's worth, skips the
    oversized frame to its end, and the events after it still arrive."""
    protocol = SkippingProtocol(lambda name: name == "QueueCallerJoin")
    junk = b"Event: QueueCallerJoin\r\nCallerIDNum: " + b"7" * (8 * 1024 * 1024)
    data = junk + b"\r\n\r\n" + b"Event: QueueCallerJoin\r\nUniqueid: 1.1\r\nQueue: support\r\n\r\n"
    protocol.connection_made(Transport())
    rec = Recorder()
    protocol.factory = rec
    biggest = 0
    for i in range(0, len(data), 65536):
        protocol.data_received(data[i : i + 65536])
        biggest = max(biggest, sum(len(x) for x in protocol.queue))
    assert biggest <= 2 * 65536 + 64 * 1024
    assert protocol.oversized == 1
    assert [e.get("Uniqueid") for e in rec.events] == ["1.1"]
