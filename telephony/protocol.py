"""The AMI wire format: ``Key: Value`` lines ending in CRLF, a message ends with an empty line.

Used by the simulator (server side) and by the tests that read the captured Asterisk traces; the
production client speaks the same format through panoramisk.

A ``Frame`` keeps the headers in wire order, duplicates included, so a trace re-encoded by the
simulator is byte-identical to what Asterisk sent.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

EOL = b"\r\n"
GREETING = b"Asterisk Call Manager/11.0.0\r\n"
MAX_FRAME_BYTES = 64 * 1024

Frame = list[tuple[str, str]]


def encode(frame: Frame) -> bytes:
    """Serialise one message, terminated by the empty line."""
    return b"".join(f"{k}: {v}".encode() + EOL for k, v in frame) + EOL


def as_dict(frame: Frame) -> dict[str, str]:
    """Headers as a dict; for a repeated header the first value wins (what the normaliser needs)."""
    out: dict[str, str] = {}
    for k, v in frame:
        out.setdefault(k, v)
    return out


def get(frame: Frame, key: str, default: str = "") -> str:
    for k, v in frame:
        if k == key:
            return v
    return default


def parse_block(block: bytes) -> Frame | None:
    """Parse one message (without the terminating empty line). Lines without ``:`` are skipped."""
    frame: Frame = []
    for raw in block.split(b"\n"):
        line = raw.rstrip(b"\r").decode("utf-8", "replace")
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            log.warning("AMI line without a colon ignored (%d chars)", len(line))
            continue
        frame.append((key.strip(), value[1:] if value.startswith(" ") else value))
    return frame or None


class FrameReader:
    """Incremental parser: feed bytes as they arrive, get complete frames back.

    The optional greeting line (``Asterisk Call Manager/…``) is consumed first. A message larger than
    ``MAX_FRAME_BYTES`` without a terminator is dropped with a warning, so a broken peer cannot grow
    memory without bound.
    """

    def __init__(self, expect_greeting: bool = False) -> None:
        self._buf = b""
        self.greeting: str | None = None
        self._expect_greeting = expect_greeting

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        if self._expect_greeting and self.greeting is None:
            nl = self._buf.find(b"\n")
            if nl < 0:
                return []
            self.greeting = self._buf[:nl].rstrip(b"\r").decode("utf-8", "replace")
            self._buf = self._buf[nl + 1 :]
        frames: list[Frame] = []
        while True:
            end, skip = _find_terminator(self._buf)
            if end < 0:
                break
            block, self._buf = self._buf[:end], self._buf[end + skip :]
            frame = parse_block(block)
            if frame:
                frames.append(frame)
        if len(self._buf) > MAX_FRAME_BYTES:
            log.warning("AMI frame over %d bytes without terminator dropped", MAX_FRAME_BYTES)
            self._buf = b""
        return frames

    @property
    def pending(self) -> bytes:
        """Bytes of an incomplete (truncated) message still waiting for its terminator."""
        return self._buf


def _find_terminator(buf: bytes) -> tuple[int, int]:
    """Position of the first empty line (CRLFCRLF, tolerating bare LF) and its length."""
    crlf = buf.find(b"\r\n\r\n")
    lf = buf.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf <= lf):
        return crlf, 4
    if lf >= 0:
        return lf, 2
    return -1, 0


def read_trace(path: str | Path) -> tuple[str, list[Frame]]:
    """Read a capture file of ``../shared/ami-traces``: 3 ``#`` lines, then the raw AMI byte stream.

    Returns the greeting line and every message in order (responses and events).
    """
    return parse_trace_bytes(trace_stream(path))


def trace_stream(path: str | Path) -> bytes:
    """The raw socket bytes of a capture file (the ``#`` comment lines removed)."""
    data = Path(path).read_bytes()
    while data.startswith(b"#"):
        data = data[data.index(b"\n") + 1 :]
    return data


def parse_trace_bytes(data: bytes) -> tuple[str, list[Frame]]:
    reader = FrameReader(expect_greeting=True)
    frames = reader.feed(data)
    return reader.greeting or "", frames
