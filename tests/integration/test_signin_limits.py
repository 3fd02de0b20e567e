"""Sign-in is limited per user name and per address with back-off, and a flood of sign-ins is held to a
bounded password-hashing pool (refused with ``sign_in_busy`` beyond it), over real HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.apphelpers import PASSWORD, ServerThread, add_user, make_container
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
    assert all(r.json()["error_id"] == "sign_in_busy" for r in busy)
    assert codes.count(401) <= 9  # one hashing thread + 8 waiting at most
    assert set(codes) <= {401, 503}
