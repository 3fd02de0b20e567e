"""The workstation's call service on the real AMI client and the simulated Asterisk over TCP, with the call
history on PostgreSQL: what an operator sees and what the history keeps when the PBX behaves as a real
Asterisk 22 does (no caller ID, a second ring of the same operator, every operator paused, a restart of
the workstation mid-call, an Asterisk restart that forgets breaks)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from billing_adapter.memory import MemoryBilling, make_card
from telephony.ami import AmiTelephony
from telephony.simulator import AmiSimulator
from tests.apphelpers import add_user, make_container
from tests.conftest import drop_pg_database, make_pg_database
from workstation.bootstrap import Container
from workstation.models import Call, User

USER, SECRET = "ccw", "calls-secret"
A1, A2 = "Local/1001@agents/n", "Local/1002@agents/n"
KNOWN = "+79161234567"


@dataclass
class Node:
    """One workstation process: its container, its AMI client, and what each operator's screen got."""

    container: Container
    tel: AmiTelephony
    screens: dict[int, list[dict[str, Any]]]

    @property
    def calls(self) -> Any:
        return self.container.calls

    def types(self, uid: int) -> list[str]:
        return [m["type"] for m in self.screens[uid]]

    async def stop(self) -> None:
        await self.tel.stop()
        await self.calls.stop()


@pytest.fixture
def db_url(pg_server_url: str) -> Iterator[str]:
    url = make_pg_database("calls_ami")
    yield url
    drop_pg_database(url)


@pytest.fixture
async def sim() -> AsyncIterator[AmiSimulator]:
    s = AmiSimulator(USER, SECRET)
    await s.start("127.0.0.1", 0)
    s.state.add_member("support", A1, "Анна")
    s.state.add_member("support", A2, "Игорь")
    yield s
    await s.stop()


def billing() -> MemoryBilling:
    b = MemoryBilling()
    b.add(make_card("1", "79161234567", name="Смирнова Анна Петровна"))
    return b


async def start_node(
    tmp_path: Path, db_url: str, sim: AmiSimulator, users: dict[str, str] | None = None
) -> Node:
    tel = AmiTelephony("127.0.0.1", sim.port, USER, SECRET, backoff_initial=0.05)
    container = make_container(tmp_path, db_url=db_url, billing=billing(), telephony=tel, features=[])
    for name, iface in (users or {}).items():
        add_user(container, name, interface=iface, extension=iface.split("/")[1].split("@")[0])
    with container.db.session() as s:
        ids = [u.id for u in s.query(User).all()]
    screens: dict[int, list[dict[str, Any]]] = {uid: [] for uid in ids}

    async def capture(channel: str, message: dict[str, Any]) -> None:
        screens.setdefault(int(channel.split(".")[1]), []).append(message)

    container.bus.subscribe("user.*", capture)
    await container.calls.start()
    await tel.start(container.calls.handle)
    await asyncio.wait_for(tel.logged_in.wait(), 10)
    return Node(container, tel, screens)


async def until(pred: Callable[[], bool], deadline_s: float = 15.0) -> None:
    async def poll() -> None:
        while not pred():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), deadline_s)


def row(node: Node, call_id: str) -> Call:
    with node.container.db.session() as s:
        call = s.get(Call, call_id)
        assert call is not None
        s.expunge(call)
        return call


async def test_call_without_caller_id_gets_the_unknown_caller_card(
    tmp_path: Path, db_url: str, sim: AmiSimulator
) -> None:
    node = await start_node(tmp_path, db_url, sim, {"op1": A1})
    try:
        uid = next(iter(node.screens))
        script = await sim.play("answered", "<unknown>", agents=[(A1, "Анна")], speed=20)
        await until(lambda: "call.ended" in node.types(uid))
        offered = node.screens[uid][node.types(uid).index("call.offered")]
        assert offered["card"]["state"] == "bad_number", "not 'loading' for the whole call"
        assert offered["call"]["caller"] == ""
        await node.calls.writer.flush()
        assert row(node, script.call_ids[0]).subscriber_id is None
    finally:
        await node.stop()


async def test_second_ring_of_the_same_operator_pops_again(
    tmp_path: Path, db_url: str, sim: AmiSimulator
) -> None:
    node = await start_node(tmp_path, db_url, sim, {"op1": A1})
    try:
        uid = next(iter(node.screens))
        await sim.play("ringtwice", KNOWN, agents=[(A1, "Анна")], speed=20)
        await until(lambda: "call.ended" in node.types(uid))
        assert node.types(uid) == [
            "call.offered",
            "call.withdrawn",
            "call.offered",
            "call.answered",
            "call.ended",
        ]
        assert node.screens[uid][2]["card"]["card"]["name"] == "Смирнова Анна Петровна"
    finally:
        await node.stop()


async def test_abandoned_call_while_every_operator_is_paused_keeps_its_subscriber(
    tmp_path: Path, db_url: str, sim: AmiSimulator
) -> None:
    node = await start_node(tmp_path, db_url, sim, {"op1": A1, "op2": A2})
    try:
        for iface in (A1, A2):
            await node.tel.pause(iface, True, "Break")
        script = await sim.play("abandon", KNOWN, speed=20)
        await until(lambda: not node.calls.calls)
        await node.calls.writer.flush()
        call = row(node, script.call_ids[0])
        assert call.state == "abandoned"
        assert call.subscriber_id == "1"
    finally:
        await node.stop()


async def test_workstation_restarted_mid_call_keeps_the_calls_history_times(
    tmp_path: Path, db_url: str, sim: AmiSimulator
) -> None:
    first = await start_node(tmp_path / "a", db_url, sim, {"op1": A1})
    uid = next(iter(first.screens))
    script = sim.make_call("answered", KNOWN, agents=[(A1, "Анна")])
    steps = script.steps
    connect_at = next(i for i, (_, f) in enumerate(steps) if dict(f).get("Event") == "AgentConnect")
    for idx in range(connect_at + 3):
        sim.broadcast(steps[idx][1], script.pop_keys.get(idx))
    await until(lambda: "call.answered" in first.types(uid))
    await first.calls.writer.flush()
    cid = script.call_ids[0]
    before = row(first, cid)
    assert before.queued_at is not None
    assert before.answered_at is not None
    await first.stop()  # the process dies mid-call; a new one (or another node) takes over
    await asyncio.sleep(1.1)  # the resync happens measurably later than the answer
    second = await start_node(tmp_path / "b", db_url, sim)
    try:
        await until(lambda: "call.answered" in second.types(uid))
        for idx in range(connect_at + 3, len(steps)):
            sim.broadcast(steps[idx][1], script.pop_keys.get(idx))
        await until(lambda: "call.ended" in second.types(uid))
        await second.calls.writer.flush()
        after = row(second, cid)
        assert (after.queued_at, after.offered_at, after.answered_at) == (
            before.queued_at,
            before.offered_at,
            before.answered_at,
        )
        assert after.ended_at is not None
        assert (after.ended_at - after.answered_at).total_seconds() > 1.0
    finally:
        await second.stop()


async def test_stored_breaks_are_put_back_after_an_asterisk_restart(
    tmp_path: Path, db_url: str, sim: AmiSimulator
) -> None:
    node = await start_node(tmp_path, db_url, sim, {"op1": A1, "op2": A2})
    try:
        with node.container.db.session() as s:
            ids = {u.interface: u.id for u in s.query(User).all()}
        await node.calls.set_presence(ids[A1], "paused")
        await node.calls.set_presence(ids[A2], "ready")
        await until(lambda: sim.paused_agents() == {A1})
        await node.calls.writer.flush()
        # the workstation restarts too (nothing chosen in this process): the stored presence is the truth
        await node.stop()
        node = await start_node(tmp_path / "b", db_url, sim)
        sim.restart()
        assert sim.paused_agents() == set()
        await until(lambda: sim.paused_agents() == {A1})
        assert sim.state.members[("support", A1)].fields["PausedReason"] == "Break"
    finally:
        await node.stop()
