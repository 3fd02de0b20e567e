"""The normaliser fed with the real Asterisk 22 captures, and with the ways AMI misbehaves."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from telephony.events import (
    AgentStatus,
    CallAbandoned,
    CallAnswered,
    CallArrived,
    CallEnded,
    CallEvent,
    CallOffered,
    CallOfferWithdrawn,
    CallQueued,
    QueueCallTimes,
)
from telephony.normaliser import Normaliser, snapshot_from_status
from telephony.protocol import as_dict, read_trace
from telephony.scenarios import instantiate, template


def trace_msgs(traces_dir: Path, name: str) -> list[dict[str, str]]:
    _, frames = read_trace(traces_dir / name)
    return [as_dict(f) for f in frames]


def run(msgs: list[dict[str, str]], norm: Normaliser | None = None) -> list[CallEvent]:
    norm = norm or Normaliser()
    out: list[CallEvent] = []
    for m in msgs:
        out += norm.feed(m)
    # member states and Asterisk's own queue figures are streams apart (tests/unit/test_kpis_asterisk.py),
    # the early card fetch too (test_the_first_channel_of_a_call_announces_its_caller_once)
    return [e for e in out if not isinstance(e, AgentStatus | QueueCallTimes | CallArrived)]


def summary(events: list[CallEvent]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for e in events:
        row: tuple[str, ...] = (type(e).__name__, e.call_id)
        if isinstance(e, CallOffered | CallAnswered | CallEnded):
            row += (e.agent or "",)
        if isinstance(e, CallOfferWithdrawn):
            row += (e.agent, e.reason)
        rows.append(row)
    return rows


def test_answered_queue_call_gives_queued_one_offer_answer_and_end(traces_dir: Path) -> None:
    events = run(trace_msgs(traces_dir, "queue_answered.txt"))
    cid = "1795361442.0"
    assert summary(events) == [
        ("CallQueued", cid),
        ("CallOffered", cid, "Local/1001@agents/n"),
        ("CallAnswered", cid, "Local/1001@agents/n"),
        ("CallEnded", cid, "Local/1001@agents/n"),
    ]
    queued, offered, answered, ended = events
    assert isinstance(queued, CallQueued)
    assert queued.caller == "+79161234567"
    assert queued.queue == "support"
    assert isinstance(offered, CallOffered)
    assert offered.extension == "1001"
    assert offered.queue == "support"
    assert isinstance(answered, CallAnswered)
    assert answered.ring_s == pytest.approx(2.0, abs=0.1)
    assert isinstance(ended, CallEnded)
    assert ended.hangup_by == "caller"
    assert ended.talk_s == 3.0


def test_ring_no_answer_moves_the_offer_to_the_next_operator(traces_dir: Path) -> None:
    events = run(trace_msgs(traces_dir, "queue_ringnoanswer.txt"))
    cid = "1795361452.4"
    assert summary(events) == [
        ("CallQueued", cid),
        ("CallOffered", cid, "Local/1001@agents/n"),
        ("CallOfferWithdrawn", cid, "Local/1001@agents/n", "no_answer"),
        ("CallOffered", cid, "Local/1002@agents/n"),
        ("CallAnswered", cid, "Local/1002@agents/n"),
        ("CallEnded", cid, "Local/1002@agents/n"),
    ]
    assert isinstance(events[-1], CallEnded)
    assert events[-1].hangup_by == "agent"


def test_abandoned_call_is_never_answered(traces_dir: Path) -> None:
    events = run(trace_msgs(traces_dir, "queue_abandon.txt"))
    assert summary(events) == [("CallQueued", "1795361470.10"), ("CallAbandoned", "1795361470.10")]
    abandoned = events[-1]
    assert isinstance(abandoned, CallAbandoned)
    assert abandoned.wait_s == 7.0
    assert abandoned.caller == "+79265550101"


def test_direct_call_gives_one_offer_then_answer(traces_dir: Path) -> None:
    events = run(trace_msgs(traces_dir, "direct_call.txt"))
    cid = "1795361483.12"
    assert summary(events) == [
        ("CallOffered", cid, "Local/1001@agents/n"),
        ("CallAnswered", cid, "Local/1001@agents/n"),
        ("CallEnded", cid, "Local/1001@agents/n"),
    ]
    assert isinstance(events[0], CallOffered)
    assert events[0].queue is None
    assert events[0].caller == "+79161234567"


def test_concurrent_calls_are_kept_apart(traces_dir: Path) -> None:
    events = run(trace_msgs(traces_dir, "queue_concurrent.txt"))
    a, b = "1795361493.16", "1795361494.20"
    per_call = {cid: [r for r in summary(events) if r[1] == cid] for cid in (a, b)}
    assert per_call[a] == [
        ("CallQueued", a),
        ("CallOffered", a, "Local/1001@agents/n"),
        ("CallAnswered", a, "Local/1001@agents/n"),
        ("CallEnded", a, "Local/1001@agents/n"),
    ]
    assert per_call[b] == [
        ("CallQueued", b),
        ("CallOffered", b, "Local/1002@agents/n"),
        ("CallAnswered", b, "Local/1002@agents/n"),
        ("CallEnded", b, "Local/1002@agents/n"),
    ]
    callers = {e.call_id: e.caller for e in events if isinstance(e, CallQueued)}
    assert callers == {a: "+79167778899", b: "+79998887766"}


@pytest.mark.parametrize(
    "trace",
    [
        "queue_answered.txt",
        "queue_ringnoanswer.txt",
        "queue_abandon.txt",
        "direct_call.txt",
        "queue_concurrent.txt",
    ],
)
def test_every_event_repeated_gives_no_duplicates(traces_dir: Path, trace: str) -> None:
    msgs = trace_msgs(traces_dir, trace)
    doubled = [m for m in msgs for _ in range(2)]
    assert run(doubled) == run(msgs)


def test_finished_calls_are_forgotten(traces_dir: Path) -> None:
    norm = Normaliser(remember_finished=3)
    for trace in ("queue_answered.txt", "queue_ringnoanswer.txt", "queue_abandon.txt", "direct_call.txt"):
        run(trace_msgs(traces_dir, trace), norm)
    assert norm.calls == {}
    assert len(norm._finished) == 3


def test_late_agent_complete_after_caller_hangup_gives_one_end(traces_dir: Path) -> None:
    """README: in a repeat run AgentComplete came after the caller's Hangup."""
    msgs = trace_msgs(traces_dir, "queue_answered.txt")
    complete = next(m for m in msgs if m.get("Event") == "AgentComplete")
    msgs.remove(complete)
    msgs.append(complete)
    ends = [e for e in run(msgs) if isinstance(e, CallEnded)]
    assert len(ends) == 1
    assert ends[0].hangup_by == "caller"


def test_ring_all_closes_the_pop_on_the_operator_who_did_not_answer(traces_dir: Path) -> None:
    script = instantiate(
        template("ringall", traces_dir), ["+79160000001"], [("PJSIP/2001", "A"), ("PJSIP/2002", "B")]
    )
    events = run([as_dict(f) for _, f in script.steps])
    kinds = summary(events)
    cid = script.call_ids[0]
    assert ("CallOffered", cid, "PJSIP/2001") in kinds
    assert ("CallOffered", cid, "PJSIP/2002") in kinds
    assert ("CallAnswered", cid, "PJSIP/2002") in kinds
    assert ("CallOfferWithdrawn", cid, "PJSIP/2001", "answered_elsewhere") in kinds
    assert [k for k in kinds if k[0] == "CallOfferWithdrawn"] == [
        ("CallOfferWithdrawn", cid, "PJSIP/2001", "answered_elsewhere")
    ]


def _msg(event: str, **headers: str) -> dict[str, str]:
    return {"Event": event, **headers}


def _dial_string(dest: str) -> str:
    """What Dial() reports: ``1001@agents/n`` for Local/1001@agents/n, ``1001`` for PJSIP/1001."""
    resource = dest.split("/", 1)[1].rsplit("-", 1)[0]
    return resource + "/n" if dest.startswith("Local/") else resource


def _dial_begin(src: str, dest: str, caller: str = "+79161234567", linkedid: str = "9.1") -> dict[str, str]:
    return _msg(
        "DialBegin",
        Channel=src,
        CallerIDNum=caller,
        Uniqueid=linkedid,
        Linkedid=linkedid,
        DestChannel=dest,
        DestLinkedid=linkedid,
        DialString=_dial_string(dest),
    )


def test_caller_hanging_up_while_ringing_withdraws_with_caller_left() -> None:
    norm = Normaliser()
    out = norm.feed(_dial_begin("PJSIP/trunk-00000001", "PJSIP/1001-00000002"))
    out += norm.feed(_msg("Hangup", Channel="PJSIP/trunk-00000001", Uniqueid="9.1", Linkedid="9.1"))
    assert summary(out) == [
        ("CallOffered", "9.1", "PJSIP/1001"),
        ("CallOfferWithdrawn", "9.1", "PJSIP/1001", "caller_left"),
        ("CallAbandoned", "9.1"),
    ]


def test_internal_call_between_operators_never_pops() -> None:
    norm = Normaliser()
    assert norm.feed(_dial_begin("PJSIP/1002-00000001", "PJSIP/1001-00000002", caller="1002")) == []
    assert norm.calls == {}


def test_local_helper_leg_dialling_the_phone_gives_no_second_pop() -> None:
    norm = Normaliser()
    first = norm.feed(_dial_begin("PJSIP/trunk-00000001", "Local/1001@agents-00000002;1"))
    helper = norm.feed(_dial_begin("Local/1001@agents-00000002;2", "PJSIP/1001-00000003"))
    assert summary(first) == [("CallOffered", "9.1", "Local/1001@agents/n")]
    assert helper == []


def test_dial_to_a_trunk_is_not_an_offer() -> None:
    assert Normaliser().feed(_dial_begin("PJSIP/1001-00000001", "PJSIP/provider-00000002")) == []


def test_caller_id_that_is_not_a_number_still_pops_with_the_raw_value() -> None:
    norm = Normaliser()
    out = norm.feed(_dial_begin("PJSIP/trunk-00000001", "PJSIP/1001-00000002", caller="Anonymous"))
    assert isinstance(out[0], CallOffered)
    assert out[0].caller == "Anonymous"
    out = norm.feed(
        _dial_begin("PJSIP/trunk-00000003", "PJSIP/1001-00000004", caller="<unknown>", linkedid="9.2")
    )
    assert isinstance(out[0], CallOffered)
    assert out[0].caller == ""


def test_unknown_events_are_ignored() -> None:
    norm = Normaliser()
    assert norm.feed(_msg("SomethingNew", Channel="x")) == []
    assert norm.feed({"Response": "Success"}) == []
    assert norm.feed({}) == []


def test_malformed_event_is_logged_and_skipped(caplog: pytest.LogCaptureFixture, traces_dir: Path) -> None:
    norm = Normaliser()
    with caplog.at_level(logging.WARNING, logger="telephony.normaliser"):
        assert norm.feed(_msg("AgentCalled", Channel="Local/100@inbound-00000000;2", Linkedid="1.0")) == []
        assert norm.feed(_msg("QueueCallerJoin", Queue="support")) == []
        assert norm.feed(_msg("Hangup")) == []
    assert "AgentCalled without Interface" in caplog.text
    assert "QueueCallerJoin without Channel" in caplog.text
    # the normaliser still works afterwards
    assert len(run(trace_msgs(traces_dir, "queue_answered.txt"), norm)) == 4


def test_snapshot_of_a_live_queue_announces_the_waiting_and_the_answered_call(traces_dir: Path) -> None:
    msgs = trace_msgs(traces_dir, "actions_live_call.txt")
    channels = [m for m in msgs if m.get("Event") == "CoreShowChannel"]
    queue = [m for m in msgs if m.get("Event", "").startswith("Queue")]
    events = snapshot_from_status(channels, queue)
    rows = summary(events)
    assert ("CallQueued", "1795361510.28") in rows
    assert ("CallOffered", "1795361508.24", "Local/1001@agents/n") in rows
    assert ("CallAnswered", "1795361508.24", "Local/1001@agents/n") in rows
    assert not any(r[1] == "1795361510.28" and r[0] == "CallOffered" for r in rows)
    paused = [e for e in events if isinstance(e, AgentStatus) and e.paused]
    assert [p.agent for p in paused] == ["Local/1002@agents/n"]


def test_resync_ends_calls_that_finished_while_disconnected(traces_dir: Path) -> None:
    msgs = trace_msgs(traces_dir, "queue_answered.txt")
    upto = next(i for i, m in enumerate(msgs) if m.get("Event") == "AgentConnect")
    norm = Normaliser()
    run(msgs[: upto + 1], norm)
    events = norm.resync([], [])
    assert summary(events) == [("CallEnded", "1795361442.0", "Local/1001@agents/n")]
    assert norm.calls == {}


def test_resync_repeats_nothing_already_announced(traces_dir: Path) -> None:
    msgs = trace_msgs(traces_dir, "actions_live_call.txt")
    channels = [m for m in msgs if m.get("Event") == "CoreShowChannel"]
    queue = [m for m in msgs if m.get("Event", "").startswith("Queue")]
    norm = Normaliser()
    first = norm.resync(channels, queue)
    assert first
    assert norm.resync(channels, queue) == []


def test_second_ring_of_the_same_operator_is_a_new_offer_and_repeats_stay_one(traces_dir: Path) -> None:
    # the ring-no-answer capture with one member on both rounds of the linear queue
    agent = ("Local/1001@agents/n", "Operator 1001")
    script = instantiate(template("ringtwice", traces_dir), ["+79031112233"], [agent, agent])
    msgs = [as_dict(f) for _, f in script.steps]
    norm = Normaliser()
    events = run(msgs, norm)
    offers = [(e.agent, e.ring) for e in events if isinstance(e, CallOffered)]
    assert offers == [(agent[0], 1), (agent[0], 2)]
    assert [(e.reason, e.ring) for e in events if isinstance(e, CallOfferWithdrawn)] == [("no_answer", 1)]
    assert [type(e).__name__ for e in events][-2:] == ["CallAnswered", "CallEnded"]
    # Asterisk repeating the second round's events (AgentCalled, then DialBegin) is still one pop per ring
    again = Normaliser()
    ring2 = [m for m in msgs if m.get("Event") in ("AgentCalled", "DialBegin")]
    doubled = [m for m in msgs for _ in (range(2) if m in ring2 else range(1))]
    assert [(e.ring) for e in run(doubled, again) if isinstance(e, CallOffered)] == [1, 2]


def test_the_first_channel_of_a_call_announces_its_caller_once(traces_dir: Path) -> None:
    norm = Normaliser()
    out: list[CallEvent] = []
    for m in trace_msgs(traces_dir, "queue_answered.txt"):
        out += norm.feed(m)
    arrived = [e for e in out if isinstance(e, CallArrived)]
    assert [(e.call_id, e.caller) for e in arrived] == [("1795361442.0", "+79161234567")]
    kinds = [type(e).__name__ for e in out if not isinstance(e, AgentStatus | QueueCallTimes)]
    assert kinds[:2] == ["CallArrived", "CallQueued"]  # half a second before the queue join rings


def test_no_arrival_for_later_channels_nor_for_calls_operators_place() -> None:
    norm = Normaliser()
    later = _msg("Newchannel", Channel="PJSIP/1001-00000002", CallerIDNum="+79161234567")
    assert norm.feed({**later, "Uniqueid": "9.2", "Linkedid": "9.1"}) == []  # an operator's leg
    own = _msg("Newchannel", Channel="PJSIP/1002-00000001", CallerIDNum="1002", Uniqueid="8.1")
    norm.feed(_dial_begin("PJSIP/trunk-00000009", "PJSIP/1002-00000003", linkedid="7.1"))  # learns 1002
    assert norm.feed({**own, "Linkedid": "8.1"}) == []
    unknown = _msg("Newchannel", Channel="PJSIP/trunk-00000004", CallerIDNum="<unknown>", Uniqueid="6.1")
    assert norm.feed(unknown) == []
    known = norm.feed({**unknown, "Event": "NewCallerid", "CallerIDNum": "+79031112233"})
    assert [(type(e).__name__, e.call_id) for e in known] == [("CallArrived", "6.1")]
    assert norm.feed({**unknown, "Event": "NewCallerid", "CallerIDNum": "+79031112233"}) == []
