"""A hostile or broken caller id stops at the telephony edge: at most 32 printable characters go on."""

from __future__ import annotations

from pathlib import Path

import pytest

from telephony.events import CallEvent, CallQueued
from telephony.normaliser import Normaliser
from telephony.protocol import as_dict, read_trace


def _queued_with_caller(traces_dir: Path, caller: str) -> list[CallEvent]:
    _, frames = read_trace(traces_dir / "queue_answered.txt")
    norm = Normaliser()
    out: list[CallEvent] = []
    for frame in frames:
        msg = as_dict(frame)
        if "CallerIDNum" in msg:
            msg["CallerIDNum"] = caller
        out += norm.feed(msg)
    return out


@pytest.mark.parametrize(
    "raw",
    ["7" * 500, "7916\x00123", "79161234567\r\nEvent: Fake", "\x1b[2J79161234567"],
    ids=["500 digits", "NUL", "CRLF", "escape"],
)
def test_caller_id_is_printable_and_fits_the_history_column(traces_dir: Path, raw: str) -> None:
    events = _queued_with_caller(traces_dir, raw)
    queued = [e for e in events if isinstance(e, CallQueued)]
    assert queued, "the call is still followed"
    for ev in events:
        caller = getattr(ev, "caller", "")
        assert len(caller) <= 32, repr(caller)
        assert caller.isprintable(), repr(caller)
    assert queued[0].caller.startswith("7") or "79161234567" in queued[0].caller
