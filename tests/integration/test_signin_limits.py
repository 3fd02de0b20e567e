"""Sign-in is limited per user name and per address with back-off (shared by the nodes through Redis, each
node on its own when Redis is away), and a flood of sign-ins is held to a short hashing queue (refused
with ``sign_in_busy`` beyond it, not queued), over real HTTP."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.apphelpers import PASSWORD, ServerThread, add_user, make_container
from tests.own_services import free_port
from workstation.app import create_app


@pytest.fixture
def server(tmp_path: Path) -> Any:
    container = make_container(tmp_path, features=[])
    add_user(container, "op1", interface="PJSIP/1001", extension="1001")
    with ServerThread(create_app(container)) as srv:
        yield srv
    container.db.dispose()


def _login(client: httpx.Client, user: str, password: str) -> httpx.Response:
    return client.post("/api/auth/login", json={"username": user, "password": password})


def test_guessing_one_users_password_is_slowed_down_even_with_the_right_one(server: Any) -> None:
    with httpx.Client(base_url=server.url) as client:
        for _ in range(5):
            assert _login(client, "op1", "guess").status_code == 401
        r = _login(client, "op1", "guess")
        assert r.status_code == 401  # the sixth is checked, then the lock starts
        locked = _login(client, "op1", PASSWORD)
        assert locked.status_code == 429
        assert locked.json()["error_id"] == "too_many_attempts"
        assert locked.json()["details"]["retry_after_s"] >= 1
        assert int(locked.headers["retry-after"]) == locked.json()["details"]["retry_after_s"]
        # another user from another address is not affected
        other = httpx.Client(base_url=server.url)
        assert _login(other, "nobody", "x").status_code == 401


def test_one_address_spraying_many_user_names_is_slowed_down(server: Any) -> None:
    with httpx.Client(base_url=server.url) as client:
        codes = [_login(client, f"user{n}", "guess").status_code for n in range(22)]
        assert codes[:20] == [401] * 20
        assert 429 in codes[20:]


async def test_a_flood_of_concurrent_sign_ins_is_bounded_not_queued_on_shared_threads(server: Any) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        replies = await asyncio.gather(
            *(client.post("/api/auth/login", json={"username": f"x{n}", "password": "y"}) for n in range(32))
        )
    codes = [r.status_code for r in replies]
    busy = [r for r in replies if r.status_code == 503]
    assert busy
    assert all(r.json()["error_id"] == "sign_in_busy" and r.headers["retry-after"] == "1" for r in busy)
    # 4 in flight at most (one hashing, three queued); a few more once those are done, not 32
    assert codes.count(401) <= 8
    assert set(codes) <= {401, 503}


def test_a_sign_in_body_too_large_for_a_sign_in_is_refused_at_the_gate(server: Any) -> None:
    with httpx.Client(base_url=server.url) as client:
        r = client.post("/api/auth/login", json={"username": "op1", "password": "x" * 9000})
    assert r.status_code == 413
    assert r.json()["error_id"] == "too_large"


def _two_nodes(tmp_path: Path, redis_url: str, prefix: str) -> tuple[Any, Any]:
    first = make_container(
        tmp_path / "a", features=[], bus_url=redis_url, cache_url=redis_url, redis_prefix=prefix
    )
    add_user(first, "op1", interface="PJSIP/1001", extension="1001")
    second = make_container(
        tmp_path / "b",
        db_url=str(first.settings.database_url),
        features=[],
        bus_url=redis_url,
        cache_url=redis_url,
        redis_prefix=prefix,
    )
    return first, second


async def test_guesses_spread_over_two_nodes_count_once(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = _two_nodes(tmp_path, redis_url, redis_prefix)
    body = {"username": "op1", "password": "guess"}
    with ServerThread(create_app(first)) as a, ServerThread(create_app(second)) as b:
        async with httpx.AsyncClient(base_url=a.url) as ca, httpx.AsyncClient(base_url=b.url) as cb:
            # 6 wrong guesses, 3 on each node: neither node alone has seen more than the 5 free ones
            for n in range(6):
                assert (await (ca if n % 2 else cb).post("/api/auth/login", json=body)).status_code == 401
            right = {"username": "op1", "password": PASSWORD}
            replies = await asyncio.gather(*(c.post("/api/auth/login", json=right) for c in (ca, cb)))
            for locked in replies:  # both at once: the first lock lasts a second
                assert locked.status_code == 429
                assert locked.json()["error_id"] == "too_many_attempts"
    first.db.dispose()
    second.db.dispose()


def test_with_redis_away_each_node_still_limits_on_its_own(tmp_path: Path) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    container = make_container(tmp_path, features=[], bus_url="memory://", cache_url=dead)
    add_user(container, "op1", interface="PJSIP/1001", extension="1001")
    with ServerThread(create_app(container)) as srv, httpx.Client(base_url=srv.url) as client:
        codes = [_login(client, "op1", "guess").status_code for _ in range(6)]
        assert codes == [401] * 6
        locked = _login(client, "op1", PASSWORD)
        assert locked.status_code == 429
        assert container.signin.shared is not None
        assert container.signin.shared.failures > 0
    container.db.dispose()


def test_passwords_are_checked_in_a_process_apart_that_comes_back_if_killed(server: Any) -> None:
    from workstation.password_hash import HASHING

    with httpx.Client(base_url=server.url) as client:
        assert _login(client, "op1", PASSWORD).status_code == 200
        worker = HASHING._proc
        assert worker is not None
        assert worker.pid != os.getpid()
        worker.kill()
        worker.wait()
        assert _login(client, "op1", PASSWORD).status_code == 200  # a new worker took over
        assert HASHING._proc is not None
        assert HASHING._proc.pid != worker.pid
