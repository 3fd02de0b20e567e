"""AMI framing and the scenarios made from the captures."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from telephony.channels import AgentBook, extension_of, parse_name
from telephony.protocol import GREETING, FrameReader, encode, get, read_trace, trace_stream
from telephony.scenarios import SCENARIOS, instantiate, template

TRACES = ["queue_answered.txt", "queue_ringnoanswer.txt", "queue_abandon.txt", "direct_call.txt"]
TRACES += ["queue_concurrent.txt", "actions_live_call.txt"]


@pytest.mark.parametrize("trace", TRACES)
def test_frames_re_encode_to_the_exact_captured_bytes(traces_dir: Path, trace: str) -> None:
    greeting, frames = read_trace(traces_dir / trace)
    assert (greeting + "\r\n").encode() == GREETING
    assert GREETING + b"".join(encode(f) for f in frames) == trace_stream(traces_dir / trace)


def test_truncated_frame_waits_for_the_rest(traces_dir: Path) -> None:
    data = trace_stream(traces_dir / "queue_answered.txt")
    cut = data.index(b"Event: AgentCalled") + 40
    reader = FrameReader(expect_greeting=True)
    before = reader.feed(data[:cut])
    assert all(get(f, "Event") != "AgentCalled" for f in before)
    assert reader.pending.startswith(b"Event: AgentCalled")
    after = reader.feed(data[cut:])
    assert get(after[0], "Event") == "AgentCalled"
    assert get(after[0], "Interface") == "Local/1001@agents/n"


def test_garbage_lines_are_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    reader = FrameReader()
    with caplog.at_level(logging.WARNING, logger="telephony.protocol"):
        frames = reader.feed(b"Event: Foo\r\nthis line has no colon\r\nA: 1\r\n\r\n\x00\xff\r\n\r\n")
    assert frames == [[("Event", "Foo"), ("A", "1")]]
    assert "without a colon" in caplog.text


def test_endless_frame_is_dropped_not_buffered(caplog: pytest.LogCaptureFixture) -> None:
    reader = FrameReader()
    with caplog.at_level(logging.WARNING, logger="telephony.protocol"):
        reader.feed(b"Event: Foo\r\n" + b"X: " + b"y" * 70_000)
    assert reader.pending == b""
    assert "dropped" in caplog.text


def test_channel_names_reduce_to_member_interfaces() -> None:
    assert parse_name("Local/1001@agents-00000007;1").key == "Local/1001@agents"  # type: ignore[union-attr]
    assert parse_name("Local/1001@agents/n").key == "Local/1001@agents"  # type: ignore[union-attr]
    assert parse_name("PJSIP/1001-0000000a").key == "PJSIP/1001"  # type: ignore[union-attr]
    assert parse_name("Local/100@from-internal-0000000c;2").context == "from-internal"  # type: ignore[union-attr]
    assert extension_of("Local/1001@agents/n") == "1001"
    assert extension_of("PJSIP/1001") == "1001"
    book = AgentBook()
    assert book.is_agent("PJSIP/1001-0000000a")
    assert not book.is_agent("PJSIP/provider-00000001")
    assert not book.is_agent("Local/100@inbound-00000000;2")
    assert book.interface_for("Local/1001@agents-00000007;1", "1001@agents/n") == "Local/1001@agents/n"


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_instances_carry_fresh_identities(traces_dir: Path, name: str) -> None:
    tpl = template(name, traces_dir)
    agents = [("PJSIP/2001", "Иванов"), ("Local/2002@agents/n", "Петрова")]
    a = instantiate(tpl, ["+79001112233", "+79004445566"], agents)
    b = instantiate(tpl, ["+79001112233", "+79004445566"], agents)
    text = "".join(v for _, f in a.steps for _, v in f)
    for old in tpl.callers:
        assert old not in text
    assert "1795361" not in "".join(get(f, "Uniqueid") + get(f, "Linkedid") for _, f in a.steps)
    assert "Local/1001@agents" not in text
    assert "Operator 100" not in text
    assert "PJSIP/2001-" in text or name == "abandon"
    assert not any(";2" in get(f, "Channel") and "PJSIP" in get(f, "Channel") for _, f in a.steps)
    assert set(a.call_ids).isdisjoint(b.call_ids)
    offsets = [off for off, _ in a.steps]
    assert offsets == sorted(offsets)
