"""Session checks of one moment are answered by one query (``workstation.session_batch``)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from workstation.models import User
from workstation.session_batch import SessionBatch


class FakeSessions:
    """Stands for the DB: ``resolve_many`` runs in the batcher's thread; the first call can be held."""

    def __init__(self, users: dict[str, User]) -> None:
        self.users = users
        self.calls: list[list[str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.fail_next = False

    def resolve_many(self, tokens: list[str]) -> dict[str, User]:
        self.calls.append(sorted(tokens))
        self.entered.set()
        self.release.wait(5)
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("the DB went away")
        return {t: self.users[t] for t in tokens if t in self.users}


def _users(n: int) -> dict[str, User]:
    return {f"token-{i}": User(id=i, username=f"op{i}", role="operator") for i in range(n)}


async def _entered(fake: FakeSessions) -> None:
    assert await asyncio.to_thread(fake.entered.wait, 5)


async def test_checks_arriving_while_a_query_runs_are_answered_by_one_more_query() -> None:
    fake = FakeSessions(_users(30))
    batch = SessionBatch(fake.resolve_many)
    fake.release.clear()
    first = asyncio.create_task(batch.resolve("token-0"))
    await _entered(fake)  # the first check's query is running
    rest = [asyncio.create_task(batch.resolve(f"token-{i}")) for i in range(1, 30)]
    rest.append(asyncio.create_task(batch.resolve("unknown")))
    rest.append(asyncio.create_task(batch.resolve("token-7")))  # a second tab of the same session
    await asyncio.sleep(0)  # let them all queue
    fake.release.set()
    users = await asyncio.gather(first, *rest)
    assert [u.id if u else None for u in users] == [*range(30), None, 7]
    assert fake.calls == [["token-0"], sorted({f"token-{i}" for i in range(1, 30)} | {"unknown"})]
    assert batch.batches == 2


async def test_a_db_error_reaches_every_check_of_its_batch_and_the_next_batch_is_answered() -> None:
    fake = FakeSessions(_users(3))
    batch = SessionBatch(fake.resolve_many)
    fake.fail_next = True
    results = await asyncio.gather(*(batch.resolve(f"token-{i}") for i in range(3)), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results), results
    user = await batch.resolve("token-2")
    assert user is not None
    assert user.username == "op2"


async def test_a_check_whose_request_went_away_does_not_hold_up_the_others() -> None:
    fake = FakeSessions(_users(3))
    batch = SessionBatch(fake.resolve_many)
    fake.release.clear()
    gone = asyncio.create_task(batch.resolve("token-0"))
    await _entered(fake)
    waiting = asyncio.create_task(batch.resolve("token-1"))
    await asyncio.sleep(0)
    gone.cancel()  # the browser closed the tab while its session was being checked
    fake.release.set()
    with pytest.raises(asyncio.CancelledError):
        await gone
    user = await waiting
    assert user is not None
    assert user.id == 1


def test_a_batcher_used_from_a_new_event_loop_starts_afresh() -> None:
    fake = FakeSessions(_users(2))
    batch = SessionBatch(fake.resolve_many)
    for token, uid in (("token-0", 0), ("token-1", 1)):  # one loop each, as the tests' apps have
        user = asyncio.run(batch.resolve(token))
        assert user is not None
        assert user.id == uid
