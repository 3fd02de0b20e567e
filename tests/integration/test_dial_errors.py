"""Click-to-dial over HTTP against the simulated Asterisk over TCP: every telephony failure is an error reply
with an ``error_id`` the screen translates, never a bare HTTP 500 with a traceback in the log."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from telephony.ami import AmiTelephony
from telephony.simulator import AmiSimulator
from tests.apphelpers import PASSWORD, add_user, make_container
from workstation.app import create_app
from workstation.bootstrap import Container

USER, SECRET = "ccw", "dial-secret"


@pytest.fixture
async def sim() -> AsyncIterator[AmiSimulator]:
    s = AmiSimulator(USER, SECRET, write="system,call,agent,reporting")  # no "originate"
    await s.start("127.0.0.1", 0)
    yield s
    await s.stop()


async def dial_as_operator(
    tmp_path: Path, tel: AmiTelephony, number: str = "8 916 123-45-67"
) -> httpx.Response:
    container = make_container(tmp_path, telephony=tel, features=[])
    add_user(container, "op1", extension="1001", interface="PJSIP/1001")
    async with signed_in(container, "op1") as client:
        return await client.post("/api/calls/dial", json={"number": number})


@asynccontextmanager
async def signed_in(container: Container, username: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(container)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ws") as client:
        r = await client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200
        yield client


def body(r: httpx.Response) -> dict[str, Any]:
    data: dict[str, Any] = r.json()
    assert set(data) == {"error_id", "message", "details"}
    return data


async def test_dial_with_the_link_down_is_telephony_down(
    tmp_path: Path, sim: AmiSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    tel = AmiTelephony("127.0.0.1", sim.port, USER, SECRET)  # never connected
    with caplog.at_level(logging.ERROR):
        r = await dial_as_operator(tmp_path, tel)
    assert r.status_code == 503
    assert body(r)["error_id"] == "telephony_down"
    assert "Traceback" not in caplog.text
    assert sim.originates == []


@asynccontextmanager
async def connected(
    sim: AmiSimulator | None = None, write: str = "all", **options: Any
) -> AsyncIterator[tuple[AmiSimulator, AmiTelephony]]:
    """``AmiTelephony`` logged in to ``sim`` (or to a simulator of its own whose AMI user may ``write``)."""
    own = sim is None
    if sim is None:
        sim = AmiSimulator(USER, SECRET, write=write)
        await sim.start("127.0.0.1", 0)
    tel = AmiTelephony("127.0.0.1", sim.port, USER, SECRET, **options)
    await tel.start(_ignore)
    try:
        await tel.logged_in.wait()
        yield sim, tel
    finally:
        await tel.stop()
        if own:
            await sim.stop()


async def test_dial_without_originate_permission_names_it(tmp_path: Path, sim: AmiSimulator) -> None:
    async with connected(sim) as (_, tel):
        assert [p["id"] for p in tel.health()["problems"]] == ["ami_write_originate"]  # type: ignore[attr-defined, union-attr]
        r = await dial_as_operator(tmp_path, tel)
    data = body(r)
    assert r.status_code == 503
    assert data["error_id"] == "telephony_permission"
    assert data["details"] == {"permission": "originate"}


async def test_supervisor_floor_shows_what_the_ami_user_may_not_do(tmp_path: Path) -> None:
    async with connected(write="system,call,originate,reporting") as (_, tel):  # README's old line
        container = make_container(tmp_path, telephony=tel, features=[])
        add_user(container, "boss", role="supervisor")
        async with signed_in(container, "boss") as client:
            floor = (await client.get("/api/supervisor/floor")).json()
    assert floor["telephony"]["state"] == "degraded"
    [problem] = floor["telephony"]["problems"]
    assert problem["id"] == "ami_write_agent"
    assert "write = agent" in problem["message"]


@pytest.mark.parametrize(
    ("options", "status", "reply", "sent"),
    [
        # a channel template without a technology: Asterisk answers "Invalid channel", nothing is dialled
        pytest.param(
            {"channel_template": "{extension}"},
            502,
            ("originate_rejected", "Invalid channel"),
            None,
            id="refused",
        ),
        pytest.param(
            {"originate_context": "from-workstation"},
            200,
            None,
            {
                "channel": "PJSIP/1001",
                "context": "from-workstation",
                "exten": "79161234567",
                "callerid": "79161234567",
            },
            id="dialled",
        ),
    ],
)
async def test_dial_answers_what_asterisk_answered(
    tmp_path: Path,
    options: dict[str, str],
    status: int,
    reply: tuple[str, str] | None,
    sent: dict[str, str] | None,
) -> None:
    """Refused by Asterisk: ``originate_rejected`` with Asterisk's reason; accepted: the digits and the
    operator's phone reached Asterisk."""
    async with connected(**options) as (sim, tel):
        r = await dial_as_operator(tmp_path, tel)
    assert r.status_code == status
    if reply is not None:
        data = body(r)
        assert data["error_id"] == reply[0]
        assert reply[1] in data["message"]
    dialled = [{k: o[k] for k in ("channel", "context", "exten", "callerid")} for o in sim.originates]
    assert dialled == ([sent] if sent else [])


async def _ignore(_: object) -> None:
    return None
