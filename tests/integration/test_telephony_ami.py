"""AmiTelephony (panoramisk) against the AMI simulator over real TCP, replaying the real captures."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from telephony.ami import AmiTelephony
from telephony.errors import TelephonyUnavailable
from telephony.events import (
    AgentStatus,
    CallAnswered,
    CallArrived,
    CallEnded,
    CallEvent,
    CallOffered,
    CallQueued,
    QueueCallTimes,
    TelephonyLink,
)
from telephony.normaliser import Normaliser
from telephony.protocol import as_dict, read_trace
from telephony.simulator import AmiSimulator

USER, SECRET = "ccw", "s3cret-for-tests"


def is_call_event(e: CallEvent) -> bool:
    """The call events proper (not member states, link changes, Asterisk's own queue figures, nor the
    early card fetch of a call's first channel)."""
    return not isinstance(e, AgentStatus | TelephonyLink | QueueCallTimes | CallArrived)


class Collector:
    """The handler the workstation would pass: records every call event."""

    def __init__(self) -> None:
        self.events: list[CallEvent] = []

    async def __call__(self, ev: CallEvent) -> None:
        self.events.append(ev)

    def calls(self) -> list[CallEvent]:
        return [e for e in self.events if is_call_event(e)]

    async def wait(self, pred: Callable[[list[CallEvent]], bool], deadline_s: float = 15.0) -> None:
        async def poll() -> None:
            while not pred(self.events):
                await asyncio.sleep(0.01)

        await asyncio.wait_for(poll(), deadline_s)


def kinds(events: list[CallEvent]) -> list[tuple[str, str, str]]:
    return [(type(e).__name__, e.call_id, getattr(e, "agent", "") or "") for e in events]


def per_call(events: list[CallEvent]) -> dict[str, list[tuple[str, str, str]]]:
    out: dict[str, list[tuple[str, str, str]]] = {}
    for k in kinds(events):
        out.setdefault(k[1], []).append(k)
    return out


@pytest.fixture
async def sim(traces_dir: Path) -> AsyncIterator[AmiSimulator]:
    s = AmiSimulator(USER, SECRET, traces_dir=traces_dir, auth_fail_delay=0.05)
    await s.start("127.0.0.1", 0)
    yield s
    await s.stop()


async def connect(sim: AmiSimulator, secret: str = SECRET) -> tuple[AmiTelephony, Collector]:
    col = Collector()
    tel = AmiTelephony("127.0.0.1", sim.port, USER, secret, backoff_initial=0.05, backoff_max=0.5)
    await tel.start(col)
    return tel, col


@pytest.fixture
async def client(sim: AmiSimulator) -> AsyncIterator[tuple[AmiTelephony, Collector]]:
    tel, col = await connect(sim)
    await asyncio.wait_for(tel.logged_in.wait(), 10)
    yield tel, col
    await tel.stop()


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
async def test_replayed_capture_reaches_the_handler_as_the_same_call_events(
    sim: AmiSimulator, client: tuple[AmiTelephony, Collector], traces_dir: Path, trace: str
) -> None:
    _, frames = read_trace(traces_dir / trace)
    norm = Normaliser()
    expected = [e for f in frames for e in norm.feed(as_dict(f)) if is_call_event(e)]
    tel, col = client
    await sim.replay_file(traces_dir / trace)
    await col.wait(lambda _: len(col.calls()) >= len(expected))
    await asyncio.sleep(0.05)
    # delivery keeps each call's order (calls are handled concurrently, so not across calls)
    assert per_call(col.calls()) == per_call(expected)
    assert tel.health()["live_calls"] == 0


async def test_played_call_pops_the_chosen_operator_with_the_callers_number(
    sim: AmiSimulator, client: tuple[AmiTelephony, Collector]
) -> None:
    _, col = client
    script = await sim.play("answered", caller="+79035550001", agents=[("PJSIP/3001", "Оператор")], speed=20)
    await col.wait(lambda ev: any(isinstance(e, CallEnded) for e in ev))
    cid = script.call_ids[0]
    assert kinds(col.calls()) == [
        ("CallQueued", cid, ""),
        ("CallOffered", cid, "PJSIP/3001"),
        ("CallAnswered", cid, "PJSIP/3001"),
        ("CallEnded", cid, "PJSIP/3001"),
    ]
    arrived = [e for e in col.events if isinstance(e, CallArrived)]
    assert [(e.call_id, e.caller) for e in arrived] == [(cid, "+79035550001")]  # before the queue join
    assert col.events.index(arrived[0]) < col.events.index(col.calls()[0])
    offered = col.calls()[1]
    assert isinstance(offered, CallOffered)
    assert offered.caller == "+79035550001"
    assert offered.extension == "3001"
    assert (cid, "PJSIP/3001") in sim.pops


async def test_ring_all_withdraws_the_pop_of_the_operator_who_did_not_answer(
    sim: AmiSimulator, client: tuple[AmiTelephony, Collector]
) -> None:
    _, col = client
    script = await sim.play("ringall", caller="+79035550002", agents=["PJSIP/3001", "PJSIP/3002"], speed=20)
    await col.wait(lambda ev: any(isinstance(e, CallEnded) for e in ev))
    cid = script.call_ids[0]
    withdrawn = [e for e in col.calls() if type(e).__name__ == "CallOfferWithdrawn"]
    assert [(w.agent, w.reason) for w in withdrawn] == [("PJSIP/3001", "answered_elsewhere")]  # type: ignore[attr-defined]
    assert ("CallAnswered", cid, "PJSIP/3002") in kinds(col.calls())


async def test_ami_dropped_mid_call_resyncs_without_a_duplicate_offer(
    sim: AmiSimulator, client: tuple[AmiTelephony, Collector]
) -> None:
    tel, col = client
    script = sim.make_call("answered", caller="+79035550003", agents=["Local/4001@agents/n"])
    steps = script.steps
    connect_at = next(i for i, (_, f) in enumerate(steps) if dict(f).get("Event") == "AgentConnect")
    offer_at = min(script.pop_keys)
    for idx in range(offer_at + 1):
        sim.broadcast(steps[idx][1], script.pop_keys.get(idx))
    await col.wait(lambda ev: any(isinstance(e, CallOffered) for e in ev))
    # the link drops; the answer happens while nobody listens (no await: the client cannot reconnect)
    sim.drop_connections()
    for idx in range(offer_at + 1, connect_at + 1):
        sim.broadcast(steps[idx][1], script.pop_keys.get(idx))
    await col.wait(lambda ev: sum(isinstance(e, TelephonyLink) and e.up for e in ev) == 2)
    await col.wait(lambda ev: any(isinstance(e, CallAnswered) for e in ev))
    for idx in range(connect_at + 1, len(steps)):
        sim.broadcast(steps[idx][1], script.pop_keys.get(idx))
    await col.wait(lambda ev: any(isinstance(e, CallEnded) for e in ev))
    counts = Counter((type(e).__name__, getattr(e, "agent", "")) for e in col.calls())
    assert counts == Counter(
        {
            ("CallQueued", ""): 1,
            ("CallOffered", "Local/4001@agents/n"): 1,
            ("CallAnswered", "Local/4001@agents/n"): 1,
            ("CallEnded", "Local/4001@agents/n"): 1,
        }
    )
    links = [e.up for e in col.events if isinstance(e, TelephonyLink)]
    assert links == [True, False, True]
    assert tel.health()["connected"] is True
    assert tel.reconnects >= 1


async def test_client_started_mid_call_learns_the_live_call_from_status(sim: AmiSimulator) -> None:
    script = sim.make_call("answered", caller="+79035550004", agents=["Local/4002@agents/n"])
    connect_at = next(i for i, (_, f) in enumerate(script.steps) if dict(f).get("Event") == "AgentConnect")
    for idx in range(connect_at + 3):
        sim.broadcast(script.steps[idx][1], script.pop_keys.get(idx))
    tel, col = await connect(sim)
    try:
        await col.wait(lambda ev: any(isinstance(e, CallAnswered) for e in ev))
        cid = script.call_ids[0]
        assert kinds(col.calls()) == [
            ("CallQueued", cid, ""),
            ("CallOffered", cid, "Local/4002@agents/n"),
            ("CallAnswered", cid, "Local/4002@agents/n"),
        ]
        queued = col.calls()[0]
        assert isinstance(queued, CallQueued)
        assert queued.caller == "+79035550004"
    finally:
        await tel.stop()


async def test_wrong_secret_is_refused_reported_and_retried(sim: AmiSimulator) -> None:
    tel, col = await connect(sim, secret="wrong")
    try:

        async def refused_twice() -> None:
            while tel.reconnects < 2:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(refused_twice(), 10)
        health = tel.health()
        assert health["connected"] is False
        assert "Authentication failed" in str(health["last_error"])
        assert sim.logins == 0
        assert col.events == []
    finally:
        await tel.stop()


async def test_originate_rings_the_operator_then_dials_the_number(
    sim: AmiSimulator, client: tuple[AmiTelephony, Collector]
) -> None:
    tel, col = client
    action_id = await tel.originate("1001", "+79161234567")
    sent = sim.originates[-1]
    assert sent["actionid"] == action_id
    assert (sent["channel"], sent["exten"], sent["async"]) == ("PJSIP/1001", "+79161234567", "true")
    await tel.originate("Local/1002@agents/n", "89031112233", caller_id="Support")
    assert sim.originates[-1]["channel"] == "Local/1002@agents/n"
    assert sim.originates[-1]["callerid"] == "Support"
    await asyncio.sleep(0.1)
    assert col.calls() == []  # an OriginateResponse is not a call event


async def test_originate_refuses_bad_input_before_sending(
    sim: AmiSimulator, client: tuple[AmiTelephony, Collector]
) -> None:
    tel, _ = client
    with pytest.raises(ValueError, match="number"):
        await tel.originate("1001", "call me")
    with pytest.raises(ValueError, match="extension"):
        await tel.originate("1001\r\nAction: Logoff", "+79161234567")
    assert sim.originates == []


async def test_originate_without_a_connection_says_so(sim: AmiSimulator) -> None:
    tel = AmiTelephony("127.0.0.1", sim.port, USER, SECRET)
    with pytest.raises(TelephonyUnavailable):
        await tel.originate("1001", "+79161234567")


async def test_asterisk_restart_mid_call_closes_the_call_after_reconnecting(
    sim: AmiSimulator, client: tuple[AmiTelephony, Collector]
) -> None:
    tel, col = client
    script = sim.make_call("answered", caller="+79035550005", agents=["PJSIP/4003"])
    connect_at = next(i for i, (_, f) in enumerate(script.steps) if dict(f).get("Event") == "AgentConnect")
    for idx in range(connect_at + 1):
        sim.broadcast(script.steps[idx][1], script.pop_keys.get(idx))
    await col.wait(lambda ev: any(isinstance(e, CallAnswered) for e in ev))
    sim.restart()  # Shutdown event, sockets closed, every channel gone
    await col.wait(lambda ev: any(isinstance(e, CallEnded) for e in ev))
    cid = script.call_ids[0]
    assert kinds(col.calls())[-1] == ("CallEnded", cid, "PJSIP/4003")
    assert [e.up for e in col.events if isinstance(e, TelephonyLink)] == [True, False, True]
    assert tel.health()["live_calls"] == 0


async def test_phone_numbers_never_reach_the_logs(
    sim: AmiSimulator, client: tuple[AmiTelephony, Collector], caplog: pytest.LogCaptureFixture
) -> None:
    tel, col = client
    with caplog.at_level(logging.DEBUG):
        await sim.play("ringnoanswer", caller="+79035557777", agents=["PJSIP/4004", "PJSIP/4005"], speed=50)
        await tel.originate("4004", "+79035558888")
        await col.wait(lambda ev: any(isinstance(e, CallEnded) for e in ev))
        sim.drop_connections()
        await col.wait(lambda ev: sum(isinstance(e, TelephonyLink) and e.up for e in ev) == 2)
    assert caplog.records, "the scenario logged nothing at all"
    assert "9035557777" not in caplog.text
    assert "9035558888" not in caplog.text


async def test_status_refused_after_reconnect_keeps_the_live_call(
    sim: AmiSimulator, client: tuple[AmiTelephony, Collector], caplog: pytest.LogCaptureFixture
) -> None:
    tel, col = client
    script = sim.make_call("answered", caller="+79035550006", agents=["PJSIP/4006"])
    connect_at = next(i for i, (_, f) in enumerate(script.steps) if dict(f).get("Event") == "AgentConnect")
    for idx in range(connect_at + 1):
        sim.broadcast(script.steps[idx][1], script.pop_keys.get(idx))
    await col.wait(lambda ev: any(isinstance(e, CallAnswered) for e in ev))
    sim.refused_actions.add("coreshowchannels")  # an AMI user without read=reporting
    with caplog.at_level(logging.ERROR, logger="telephony.ami"):
        sim.drop_connections()
        await col.wait(lambda ev: sum(isinstance(e, TelephonyLink) and e.up for e in ev) == 2)
        await asyncio.wait_for(tel.logged_in.wait(), 10)
    assert "CoreShowChannels refused" in caplog.text
    assert tel.health()["live_calls"] == 1
    assert not any(isinstance(e, CallEnded) for e in col.events)
    for idx in range(connect_at + 1, len(script.steps)):
        sim.broadcast(script.steps[idx][1], script.pop_keys.get(idx))
    await col.wait(lambda ev: any(isinstance(e, CallEnded) for e in ev))


async def test_pbx_that_stops_answering_is_detected_by_the_keepalive(sim: AmiSimulator) -> None:
    col = Collector()
    tel = AmiTelephony(
        "127.0.0.1", sim.port, USER, SECRET, ping_interval=0.1, action_timeout=0.3, backoff_initial=0.05
    )
    await tel.start(col)
    try:
        await asyncio.wait_for(tel.logged_in.wait(), 10)
        sim.silent = True  # the socket stays open but nothing answers the Ping
        await col.wait(lambda ev: any(isinstance(e, TelephonyLink) and not e.up for e in ev))
        assert tel.health()["connected"] is False
        sim.silent = False
        await col.wait(lambda ev: sum(isinstance(e, TelephonyLink) and e.up for e in ev) == 2)
        assert tel.health()["connected"] is True
    finally:
        await tel.stop()
