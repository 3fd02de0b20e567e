"""The AMI simulator seen from a raw TCP socket: it must answer like Asterisk 22 does."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from telephony.ami import AmiTelephony
from telephony.events import CallEvent, CallOffered
from telephony.protocol import Frame, FrameReader, as_dict, encode
from telephony.simulated import SimulatedTelephony
from telephony.simulator import AmiSimulator
from workstation.adapters import make_telephony
from workstation.settings import Settings, SettingsError, load_settings


class Raw:
    """A bare AMI client: write actions, read frames."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.parser = FrameReader(expect_greeting=True)
        self.frames: list[Frame] = []

    async def send(self, *headers: tuple[str, str]) -> None:
        self.writer.write(encode(list(headers)))
        await self.writer.drain()

    async def next(self) -> dict[str, str]:
        while not self.frames:
            data = await asyncio.wait_for(self.reader.read(65536), 5)
            if not data:
                raise EOFError
            self.frames += self.parser.feed(data)
        return as_dict(self.frames.pop(0))

    async def until(self, event: str) -> list[dict[str, str]]:
        out = []
        while True:
            msg = await self.next()
            out.append(msg)
            if msg.get("Event") == event:
                return out


@pytest.fixture
async def sim(traces_dir: Path) -> AsyncIterator[AmiSimulator]:
    s = AmiSimulator("ccw", "pw", traces_dir=traces_dir, auth_fail_delay=0.05)
    await s.start()
    yield s
    await s.stop()


async def raw(sim: AmiSimulator, login: bool = True) -> Raw:
    r = Raw(*await asyncio.open_connection("127.0.0.1", sim.port))
    if login:
        await r.send(("Action", "Login"), ("ActionID", "l1"), ("Username", "ccw"), ("Secret", "pw"))
        assert (await r.next())["Message"] == "Authentication accepted"
        assert (await r.next())["Event"] == "FullyBooted"
    return r


async def test_greeting_and_actions_before_login(sim: AmiSimulator) -> None:
    r = await raw(sim, login=False)
    await r.send(("Action", "Ping"), ("ActionID", "p0"))
    reply = await r.next()
    assert r.parser.greeting == "Asterisk Call Manager/11.0.0"
    assert (reply["Response"], reply["Message"]) == ("Error", "Authentication Required")


async def test_bad_secret_gets_authentication_failed_and_the_socket_closes(sim: AmiSimulator) -> None:
    r = await raw(sim, login=False)
    await r.send(("Action", "Login"), ("ActionID", "l1"), ("Username", "ccw"), ("Secret", "nope"))
    reply = await r.next()
    assert reply == {"Response": "Error", "ActionID": "l1", "Message": "Authentication failed"}
    with pytest.raises(EOFError):
        await r.next()


async def test_ping_unknown_action_and_logoff(sim: AmiSimulator) -> None:
    r = await raw(sim)
    await r.send(("Action", "Ping"), ("ActionID", "p1"))
    pong = await r.next()
    assert pong["Ping"] == "Pong"
    assert pong["ActionID"] == "p1"
    assert float(pong["Timestamp"]) > 0
    await r.send(("Action", "NoSuchThing"), ("ActionID", "x1"))
    assert (await r.next())["Message"] == "Invalid/unknown command"
    await r.send(("ActionID", "x2"))
    assert (await r.next())["Message"] == "Missing action in request"
    await r.send(("Action", "Logoff"), ("ActionID", "bye"))
    assert (await r.next())["Response"] == "Goodbye"
    with pytest.raises(EOFError):
        await r.next()


async def test_status_actions_describe_a_call_in_progress_truthfully(sim: AmiSimulator) -> None:
    r = await raw(sim)
    script = sim.make_call("answered", caller="+79160001122", agents=["Local/5001@agents/n"])
    join = next(i for i, (_, f) in enumerate(script.steps) if dict(f).get("Event") == "QueueCallerJoin")
    for _, frame in script.steps[: join + 1]:
        sim.broadcast(frame)
    await r.until("QueueCallerJoin")
    await r.send(("Action", "CoreShowChannels"), ("ActionID", "c1"))
    items = await r.until("CoreShowChannelsComplete")
    assert items[0]["EventList"] == "start"
    assert items[0]["Message"] == "Channels will follow"
    channels = [m for m in items if m.get("Event") == "CoreShowChannel"]
    assert items[-1]["ListItems"] == str(len(channels)) == "2"
    caller = next(c for c in channels if c["Application"] == "Queue")
    assert caller["CallerIDNum"] == "+79160001122"
    assert caller["Linkedid"] == script.call_ids[0]
    await r.send(("Action", "QueueStatus"), ("ActionID", "q1"))
    items = await r.until("QueueStatusComplete")
    entry = next(m for m in items if m.get("Event") == "QueueEntry")
    member = next(m for m in items if m.get("Event") == "QueueMember")
    assert entry["CallerIDNum"] == "+79160001122"
    assert entry["Position"] == "1"
    assert member["Location"] == "Local/5001@agents/n"
    assert list(member)[-1] == "ActionID"


async def test_originate_is_queued_then_answered_by_an_event(sim: AmiSimulator) -> None:
    r = await raw(sim)
    await r.send(("Action", "Originate"), ("ActionID", "o1"), ("Channel", "PJSIP/1001"), ("Exten", "100"))
    assert (await r.next())["Message"] == "Originate successfully queued"
    event = (await r.until("OriginateResponse"))[-1]
    assert event["ActionID"] == "o1"
    assert event["Response"] == "Success"
    await r.send(("Action", "Originate"), ("ActionID", "o2"))
    assert (await r.next())["Message"] == "Channel not specified"


async def test_generated_calls_reach_the_population(sim: AmiSimulator) -> None:
    events: list[CallEvent] = []

    async def handler(ev: CallEvent) -> None:
        events.append(ev)

    tel = AmiTelephony("127.0.0.1", sim.port, "ccw", "pw")
    await tel.start(handler)
    await asyncio.wait_for(tel.logged_in.wait(), 5)
    agents = [("PJSIP/6001", "A"), ("PJSIP/6002", "B"), ("PJSIP/6003", "C")]
    started = await sim.run_calls(50, ["+79160000001", "+79160000002"], agents, count=6, speed=50, seed=1)
    await asyncio.sleep(0.2)
    await tel.stop()
    offers = [e for e in events if isinstance(e, CallOffered)]
    assert started == 6
    assert offers
    assert {o.agent for o in offers} <= {a for a, _ in agents}
    assert {o.caller for o in offers} <= {"+79160000001", "+79160000002"}
    assert len({(o.call_id, o.agent) for o in offers}) == len(offers) == len(sim.pops)
    assert tel.normaliser.calls == {}


async def test_sim_url_gives_a_working_simulated_pbx() -> None:
    tel = make_telephony(Settings(ami_url="sim://", sim_calls_per_min=0))
    assert isinstance(tel, SimulatedTelephony)
    events: list[CallEvent] = []

    async def handler(ev: CallEvent) -> None:
        events.append(ev)

    tel.set_population(["+79160000009"], [("PJSIP/7001", "Demo")])
    await tel.start(handler)
    try:
        assert tel.client is not None
        await asyncio.wait_for(tel.client.logged_in.wait(), 5)
        await tel.simulator.play("direct", caller="+79160000009", agents=[("PJSIP/7001", "Demo")], speed=50)
        await asyncio.sleep(0.1)
        assert [e.agent for e in events if isinstance(e, CallOffered)] == ["PJSIP/7001"]
        assert tel.health()["connected"] is True
    finally:
        await tel.stop()


def test_telephony_urls_are_checked() -> None:
    assert make_telephony(Settings(ami_url="none://")) is None
    with pytest.raises(SettingsError, match=r"^bad setting WORKSTATION_AMI_SECRET: missing"):
        load_settings(ami_url="ami://ccw@pbx:5038", ami_secret=None)
    with pytest.raises(SettingsError, match=r"^bad setting WORKSTATION_AMI_URL: expected ami://user@host"):
        load_settings(ami_url="ami://pbx", ami_secret=SecretStr("x"))
    tel = make_telephony(Settings(ami_url="ami://ccw@pbx.example:5039", ami_secret=SecretStr("x")))
    assert isinstance(tel, AmiTelephony)
    assert (tel.host, tel.port) == ("pbx.example", 5039)


async def test_demo_generator_rings_the_demo_operators_with_demo_callers() -> None:
    tel = make_telephony(Settings(ami_url="sim://", sim_calls_per_min=600))
    assert isinstance(tel, SimulatedTelephony)
    offers: list[CallOffered] = []

    async def handler(ev: CallEvent) -> None:
        if isinstance(ev, CallOffered):
            offers.append(ev)

    operators = [
        ("Local/1001@agents/n", "Анна"),
        ("Local/1002@agents/n", "Игорь"),
        ("Local/1003@agents/n", "Мария"),
    ]
    tel.set_population(["+79161112233", "+79162223344"], operators)
    await tel.start(handler)
    try:

        async def some_offers() -> None:
            while len(offers) < 2:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(some_offers(), 15)
    finally:
        await tel.stop()
    assert {o.agent for o in offers} <= {i for i, _ in operators}
    assert {o.caller for o in offers} <= {"+79161112233", "+79162223344"}


def test_standalone_simulator_needs_a_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from telephony.__main__ import main

    monkeypatch.delenv("AMI_SIM_SECRET", raising=False)
    assert main(["--port", "0"]) == 2
    assert "AMI_SIM_SECRET" in capsys.readouterr().err


async def test_standalone_simulator_serves_a_workstation_client() -> None:
    env = {**os.environ, "AMI_SIM_SECRET": "standalone-pw"}
    args = [
        "--port",
        "0",
        "--rate",
        "5",
        "--speed",
        "20",
        "--agent",
        "PJSIP/8001=Оператор",
        "--caller",
        "+79160008888",
    ]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "telephony",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        port = int(line.split(" on ")[1].split()[0].rsplit(":", 1)[1])
        offers: list[CallOffered] = []

        async def handler(ev: CallEvent) -> None:
            if isinstance(ev, CallOffered):
                offers.append(ev)

        tel = AmiTelephony("127.0.0.1", port, "ccw", "standalone-pw")
        await tel.start(handler)
        try:

            async def an_offer() -> None:
                while not offers:
                    await asyncio.sleep(0.02)

            await asyncio.wait_for(an_offer(), 20)
        finally:
            await tel.stop()
        assert offers[0].agent == "PJSIP/8001"
        assert offers[0].caller == "+79160008888"
    finally:
        proc.terminate()
        await proc.wait()
