"""The call service on fakes: who gets a pop, when it closes, after-call work, restore after reload."""

from __future__ import annotations

import time
from typing import Any

import pytest

from billing_adapter.memory import MemoryBilling, make_card
from telephony.events import (
    CallAbandoned,
    CallAnswered,
    CallArrived,
    CallEnded,
    CallOffered,
    CallOfferWithdrawn,
    CallQueued,
)
from tests.apphelpers import add_user, make_container

A1 = "Local/1001@agents/n"
A2 = "Local/1002@agents/n"


@pytest.fixture
def env(tmp_path: Any) -> Any:
    billing = MemoryBilling()
    billing.add(make_card("1", "79161234567", name="Смирнова Анна Петровна", balance=-42.5))
    c2 = make_card("2", "79031112233", name="Орлов Пётр")
    c3 = make_card("3", "79031112233", name="Орлова Ольга")
    billing.add(c2)
    billing.add(c3)
    container = make_container(tmp_path, billing=billing)
    u1 = add_user(container, "op1", interface=A1, extension="1001")
    u2 = add_user(container, "op2", interface=A2, extension="1002")
    u3 = add_user(container, "op3", interface="PJSIP/1003", extension="1003")
    got: dict[int, list[dict[str, Any]]] = {u1: [], u2: [], u3: []}

    async def capture(channel: str, message: dict[str, Any]) -> None:
        got[int(channel.split(".")[1])].append(message)

    container.bus.subscribe("user.*", capture)
    calls = container.calls
    return container, calls, got, (u1, u2, u3)


def types(msgs: list[dict[str, Any]]) -> list[str]:
    return [m["type"] for m in msgs]


async def test_queued_call_pops_card_only_on_the_ringing_operator(env: Any) -> None:
    _container, calls, got, (u1, u2, u3) = env
    await calls.start()
    now = time.time()
    await calls.handle(CallQueued("c1", now, caller="+7 916 123-45-67", queue="support"))
    await calls.handle(
        CallOffered("c1", now, caller="+7 916 123-45-67", agent=A1, extension="1001", queue="support")
    )
    assert types(got[u1]) == ["call.offered"]
    card = got[u1][0]["card"]
    assert card["state"] == "found"
    assert card["card"]["name"] == "Смирнова Анна Петровна"
    assert card["card"]["balance"] == -42.5
    assert got[u2] == []
    assert got[u3] == []
    await calls.stop()


async def test_repeated_events_give_one_pop(env: Any) -> None:
    _, calls, got, (u1, _, _) = env
    await calls.start()
    ev = CallOffered("c1", time.time(), caller="79161234567", agent=A1, extension="1001", queue="support")
    for _ in range(3):
        await calls.handle(ev)
    assert types(got[u1]) == ["call.offered"]
    await calls.stop()


async def test_ring_all_closes_the_pop_on_the_operator_who_did_not_answer(env: Any) -> None:
    _, calls, got, (u1, u2, _) = env
    await calls.start()
    t = time.time()
    await calls.handle(CallQueued("c1", t, caller="79161234567", queue="support"))
    await calls.handle(CallOffered("c1", t, caller="79161234567", agent=A1, queue="support"))
    await calls.handle(CallOffered("c1", t, caller="79161234567", agent=A2, queue="support"))
    await calls.handle(CallAnswered("c1", t + 2, caller="79161234567", agent=A2, queue="support"))
    assert types(got[u1]) == ["call.offered", "call.withdrawn"]
    assert got[u1][1]["reason"] == "answered_elsewhere"
    assert types(got[u2]) == ["call.offered", "call.answered"]
    await calls.stop()


async def test_missed_ring_moves_the_pop_to_the_next_operator(env: Any) -> None:
    _, calls, got, (u1, u2, _) = env
    await calls.start()
    t = time.time()
    await calls.handle(CallOffered("c1", t, caller="79161234567", agent=A1, queue="support"))
    await calls.handle(CallOfferWithdrawn("c1", t + 5, agent=A1, reason="no_answer"))
    await calls.handle(CallOffered("c1", t + 6, caller="79161234567", agent=A2, queue="support"))
    assert types(got[u1]) == ["call.offered", "call.withdrawn"]
    assert got[u1][1]["reason"] == "no_answer"
    assert types(got[u2]) == ["call.offered"]
    assert got[u2][0]["card"]["card"]["name"] == "Смирнова Анна Петровна"
    await calls.stop()


async def test_abandoned_call_closes_the_ringing_pop(env: Any) -> None:
    _, calls, got, (u1, _, _) = env
    await calls.start()
    t = time.time()
    await calls.handle(CallOffered("c1", t, caller="79161234567", agent=A1, queue="support"))
    await calls.handle(CallAbandoned("c1", t + 3, caller="79161234567", queue="support"))
    assert types(got[u1]) == ["call.offered", "call.withdrawn"]
    assert got[u1][1]["reason"] == "caller_left"
    await calls.stop()


async def test_answer_hangup_and_after_call_work(env: Any) -> None:
    container, calls, got, (u1, _, _) = env
    await calls.start()
    t = time.time()
    await calls.handle(CallOffered("c1", t, caller="79161234567", agent=A1, queue="support"))
    await calls.handle(CallAnswered("c1", t + 2, caller="79161234567", agent=A1))
    await calls.handle(CallEnded("c1", t + 30, agent=A1, talk_s=28, hangup_by="caller"))
    assert types(got[u1]) == ["call.offered", "call.answered", "call.ended"]
    assert got[u1][2]["call"]["state"] == "wrap_up"
    snap = await calls.snapshot_for(u1)
    assert snap is not None
    assert snap["call"]["state"] == "wrap_up"
    from workstation.models import User

    with container.db.session() as s:
        user = s.get(User, u1)
    await calls.finish_wrapup("c1", user)
    assert got[u1][-1]["type"] == "call.cleared"
    assert await calls.snapshot_for(u1) is None
    await calls.writer.flush()
    from workstation.models import Call

    with container.db.session() as s:
        row = s.get(Call, "c1")
        assert row is not None
        assert row.operator_id == u1
        assert row.subscriber_id == "1"
        assert row.wrapup_done_at is not None
        refreshed = s.get(User, u1)
        assert refreshed is not None
        assert refreshed.presence == "ready"
    await calls.stop()


async def test_reload_restores_the_ringing_call_with_its_card(env: Any) -> None:
    _, calls, _, (u1, u2, _) = env
    await calls.start()
    await calls.handle(CallOffered("c1", time.time(), caller="79161234567", agent=A1, queue="support"))
    snap = await calls.snapshot_for(u1)
    assert snap is not None
    assert snap["type"] == "call.state"
    assert snap["card"]["card"]["subscriber_id"] == "1"
    assert await calls.snapshot_for(u2) is None
    await calls.stop()


async def test_the_card_built_when_billing_answered_is_the_one_every_screen_of_the_call_shows(
    env: Any,
) -> None:
    _, calls, got, (u1, _, _) = env
    await calls.start()
    t = time.time()
    await calls.handle(CallQueued("c1", t, caller="79161234567", queue="support"))
    lookup = await calls.calls["c1"].lookup_task  # billing answered while the caller waits in the queue
    assert calls.calls["c1"].card_view is not None  # built then, not when the phone rings
    await calls.handle(CallOffered("c1", t + 5, caller="79161234567", agent=A1, queue="support"))
    await calls.handle(CallAnswered("c1", t + 8, caller="79161234567", agent=A1))
    snap = await calls.snapshot_for(u1)  # a tab that reconnects during the talk
    assert snap is not None
    cards = [got[u1][0]["card"], got[u1][1]["card"], snap["card"]]
    assert [c["card"]["name"] for c in cards] == ["Смирнова Анна Петровна"] * 3
    assert [c["msisdn_display"] for c in cards] == ["+7 916 123-45-67"] * 3
    assert [c["card"]["balance"] for c in cards] == [lookup.card.balance] * 3 == [-42.5] * 3
    await calls.stop()


async def test_unknown_caller_gets_a_search_card(env: Any) -> None:
    _, calls, got, (u1, _, _) = env
    await calls.start()
    await calls.handle(CallOffered("c9", time.time(), caller="79990000000", agent=A1, queue="support"))
    assert got[u1][0]["card"]["state"] == "unknown"
    await calls.stop()


async def test_number_on_several_accounts_offers_a_choice(env: Any) -> None:
    _, calls, got, (u1, _, _) = env
    await calls.start()
    await calls.handle(CallOffered("c2", time.time(), caller="89031112233", agent=A1, queue="support"))
    card = got[u1][0]["card"]
    assert card["state"] == "multiple"
    assert {m["name"] for m in card["matches"]} == {"Орлов Пётр", "Орлова Ольга"}
    await calls.stop()


async def test_caller_id_that_is_not_a_number_pops_a_bad_number_card(env: Any) -> None:
    _, calls, got, (u1, _, _) = env
    await calls.start()
    await calls.handle(CallOffered("c3", time.time(), caller="anonymous", agent=A1, queue="support"))
    assert got[u1][0]["card"]["state"] == "bad_number"
    await calls.stop()


async def test_dead_billing_still_pops_with_unavailable_state(env: Any) -> None:
    container, calls, got, (u1, _, _) = env
    container.billing.down = True
    await calls.start()
    await calls.handle(CallOffered("c4", time.time(), caller="79161234567", agent=A1, queue="support"))
    assert types(got[u1]) == ["call.offered"]
    assert got[u1][0]["card"]["state"] == "unavailable"
    await calls.stop()


async def test_internal_call_between_operators_does_not_pop(env: Any) -> None:
    _, calls, got, (u1, _, _) = env
    await calls.start()
    await calls.handle(CallOffered("c5", time.time(), caller="1002", agent=A1))
    assert got[u1] == []
    await calls.stop()


async def test_ring_on_an_agent_with_no_user_is_ignored(env: Any) -> None:
    _, calls, got, _ = env
    await calls.start()
    await calls.handle(CallOffered("c6", time.time(), caller="79161234567", agent="PJSIP/7777"))
    assert all(v == [] for v in got.values())
    await calls.stop()


class PausingPbx:
    """Records queue pauses the service asks for (the AMI side is tested over TCP)."""

    def __init__(self) -> None:
        self.pauses: list[tuple[str, bool, str]] = []

    async def pause(self, interface: str, paused: bool, reason: str = "") -> None:
        self.pauses.append((interface, paused, reason))

    def set_presence_source(self, source: Any) -> None:
        self.source = source


async def test_after_call_work_pauses_the_operator_in_the_queue_until_the_record_is_done(env: Any) -> None:
    container, calls, _, (u1, _, _) = env
    pbx = PausingPbx()
    calls.telephony = pbx
    await calls.start()
    t = time.time()
    await calls.handle(CallOffered("c1", t, caller="79161234567", agent=A1, queue="support"))
    await calls.handle(CallAnswered("c1", t + 2, caller="79161234567", agent=A1))
    await calls.handle(CallEnded("c1", t + 9, agent=A1, hangup_by="caller"))
    await calls.drain()
    assert pbx.pauses == [(A1, True, "Wrap-up")]
    from workstation.models import User

    with container.db.session() as s:
        user = s.get(User, u1)
    await calls.finish_wrapup("c1", user)
    await calls.drain()
    assert pbx.pauses[-1] == (A1, False, "")
    await calls.stop()


async def test_record_finished_during_the_call_skips_after_call_work(env: Any) -> None:
    container, calls, got, (u1, _, _) = env
    await calls.start()
    t = time.time()
    await calls.handle(CallOffered("c1", t, caller="79161234567", agent=A1, queue="support"))
    await calls.handle(CallAnswered("c1", t + 2, caller="79161234567", agent=A1))
    from workstation.models import User

    with container.db.session() as s:
        user = s.get(User, u1)
    await calls.finish_wrapup("c1", user)
    # still talking: the call stays on screen, nothing was cleared
    assert types(got[u1]) == ["call.offered", "call.answered"]
    snap = await calls.snapshot_for(u1)
    assert snap is not None
    assert snap["call"]["state"] == "connected"
    await calls.handle(CallEnded("c1", t + 30, agent=A1, hangup_by="caller"))
    assert types(got[u1])[-2:] == ["call.ended", "call.cleared"]
    assert got[u1][-2]["call"]["state"] == "ended"
    assert await calls.snapshot_for(u1) is None
    await calls.stop()


async def test_card_fetched_while_the_call_is_in_the_ivr_pops_without_another_billing_query(
    tmp_path: Any,
) -> None:
    from billing_adapter.cache import CachedBilling
    from billing_adapter.stores import MemoryStore

    source = MemoryBilling()
    source.add(make_card("1", "79161234567", name="Смирнова Анна Петровна"))
    container = make_container(tmp_path, billing=CachedBilling(source, MemoryStore()))
    uid = add_user(container, "op1", interface=A1, extension="1001")
    got: list[dict[str, Any]] = []

    async def capture(channel: str, message: dict[str, Any]) -> None:
        got.append(message)

    container.bus.subscribe(f"user.{uid}", capture)
    calls = container.calls
    await calls.start()
    now = time.time()
    await calls.handle(CallArrived("c1", now, caller="+79161234567"))
    await calls.drain()
    assert source.queries > 0  # asked while the caller listens to the greeting
    assert calls.calls == {}  # no live call: a call that ends in the IVR leaves nothing behind
    asked = source.queries
    await calls.handle(CallQueued("c1", now + 0.5, caller="+79161234567", queue="support"))
    await calls.handle(CallOffered("c1", now + 0.5, caller="+79161234567", agent=A1, queue="support"))
    assert types(got) == ["call.offered"]
    assert got[0]["card"]["card"]["name"] == "Смирнова Анна Петровна"
    assert source.queries == asked
    await calls.stop()
