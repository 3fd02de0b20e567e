"""After-call work and the call history: a finished call reads as completed, a new call during after-call
work takes the old one off the floor, and a break chosen during the call survives the end of wrap-up."""

from __future__ import annotations

import time
from typing import Any

import pytest

from billing_adapter.memory import MemoryBilling, make_card
from telephony.events import CallAnswered, CallEnded, CallOffered
from tests.apphelpers import add_user, make_container
from workstation.calls.history import recent_calls
from workstation.models import User

A1 = "Local/1001@agents/n"
CALLER = "79161234567"


@pytest.fixture
async def env(tmp_path: Any) -> Any:
    billing = MemoryBilling()
    billing.add(make_card("1", CALLER, name="Смирнова Анна Петровна"))
    container = make_container(tmp_path, billing=billing)
    uid = add_user(container, "op1", interface=A1, extension="1001")
    calls = container.calls
    await calls.start()
    yield container, calls, uid
    await calls.stop()


async def talk(calls: Any, call_id: str, t: float, during: Any = None) -> None:
    """A call offered to, answered and hung up on op1; ``during`` runs while they talk."""
    await calls.handle(CallOffered(call_id, t, caller=CALLER, agent=A1, queue="support"))
    await calls.handle(CallAnswered(call_id, t + 2, caller=CALLER, agent=A1))
    if during is not None:
        await during()
    await calls.handle(CallEnded(call_id, t + 30, agent=A1, talk_s=28, hangup_by="caller"))


def user_row(container: Any, uid: int) -> User:
    with container.db.session() as s:
        user = s.get(User, uid)
        assert user is not None
        return user


async def test_finished_after_call_work_leaves_the_call_ended_in_history(env: Any) -> None:
    container, calls, uid = env
    await talk(calls, "c1", time.time())
    await calls.finish_wrapup("c1", user_row(container, uid))
    await calls.writer.flush()
    assert [c["state"] for c in recent_calls(container.db, "1")] == ["ended"]


async def test_a_new_call_during_after_call_work_takes_the_old_call_off_the_floor(env: Any) -> None:
    container, calls, _ = env
    t = time.time()
    await talk(calls, "c1", t)
    # the operator set themselves Ready without finishing the record: the queue rings them again
    await calls.handle(CallOffered("c2", t + 40, caller=CALLER, agent=A1, queue="support"))
    assert [c["id"] for c in calls.floor()["live_calls"]] == ["c2"]
    await calls.writer.flush()
    assert {c["id"]: c["state"] for c in recent_calls(container.db, "1")}["c1"] == "ended"


async def test_a_break_chosen_during_the_call_survives_the_end_of_after_call_work(env: Any) -> None:
    container, calls, uid = env

    async def take_a_break() -> None:
        await calls.set_presence(uid, "paused")  # the operator picks "Break" while talking

    await talk(calls, "c1", time.time(), during=take_a_break)
    await calls.finish_wrapup("c1", user_row(container, uid))
    await calls.writer.flush()
    assert user_row(container, uid).presence == "paused"
