"""Screen pop end to end: AMI simulator over TCP → workstation → websocket → Chromium.

The app runs under uvicorn with the real AMI client connected to the simulator, which plays the real
Asterisk "answered" capture with a demo subscriber's number; two operators are signed in in Chromium.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, Page

from billing_adapter import demo
from telephony.simulated import SimulatedTelephony
from tests.apphelpers import PASSWORD, Serve, add_user, make_container, sign_in_page
from workstation.adapters import make_billing
from workstation.settings import Settings

OP1 = "Local/1001@agents/n"
OP2 = "Local/1002@agents/n"


@pytest.fixture(scope="module")
def billing_db(tmp_path_factory: Any) -> Path:
    path = tmp_path_factory.mktemp("billing") / "demo_billing.db"
    demo.generate_sqlite(path, demo.DemoSpec(subscribers=300, seed=5))
    return path


@pytest.fixture
def server(serve: Serve, tmp_path: Path, billing_db: Path) -> Any:
    settings = Settings(data_dir=tmp_path, billing_url=f"sqlite:///{billing_db}")
    billing = make_billing(settings)
    tel = SimulatedTelephony(calls_per_min=0)
    container = make_container(
        tmp_path, billing=billing, telephony=tel, billing_url=f"sqlite:///{billing_db}"
    )
    add_user(container, "op1", display_name="Operator One", interface=OP1, extension="1001")
    add_user(container, "op2", display_name="Operator Two", interface=OP2, extension="1002")
    srv = serve(container)
    srv.telephony = tel
    return srv


def sign_in(page: Page, base: str, username: str) -> list[str]:
    """Sign in on the page; returns the live list of websocket message types this tab receives."""
    received: list[str] = []

    def on_ws(ws: Any) -> None:
        ws.on("framereceived", lambda payload: received.append(_type_of(payload)))

    page.on("websocket", on_ws)
    sign_in_page(page, base, username)
    page.wait_for_selector("#ws-indicator[data-state=online]")
    return received


def _type_of(payload: Any) -> str:
    import json

    try:
        return str(json.loads(payload)["type"])
    except Exception:
        return "?"


def test_call_pops_the_card_on_the_ringing_operator_only(browser: Browser, server: Any) -> None:
    caller_id = 42
    msisdn = "+" + str(demo.msisdn_of(np.array([caller_id]))[0])
    expected = server.call(server.container.billing.lookup_caller(msisdn))
    assert expected.state == "found"
    card = expected.card
    page1 = browser.new_context(locale="ru-RU").new_page()
    page2 = browser.new_context(locale="ru-RU").new_page()
    sign_in(page1, server.url, "op1")
    seen2 = sign_in(page2, server.url, "op2")
    asyncio.run_coroutine_threadsafe(
        server.telephony.simulator.play("answered", msisdn, agents=[(OP1, "Operator One")]), server.loop
    )
    page1.wait_for_selector("#call-banner[data-state=ringing], #call-banner[data-state=connected]")
    page1.wait_for_selector("#card[data-state=found]")
    assert page1.inner_text("#card .name") == card.name
    balance_text = page1.inner_text("#card .balance .v")
    assert _digits(balance_text) == _digits(f"{abs(card.balance):.2f}")
    if card.balance < 0:
        assert "negative" in (page1.get_attribute("#card .balance", "class") or "")
    page1.wait_for_selector("#call-banner[data-state=connected] #talk-timer")
    page1.wait_for_selector("#call-banner[data-state=wrap_up]", timeout=20000)
    # the operator finishes after-call work with no request record: asked, confirms, the screen idles
    page1.click("#finish-wrapup")
    page1.click("#no-record-confirm")
    page1.wait_for_selector("#call-banner[data-state=idle]")
    # the second operator's tab got no call message at all
    assert not [t for t in seen2 if t.startswith("call.") and t not in ("call.none",)]
    assert page2.get_attribute("#card", "data-state") == "idle"


def test_reload_restores_the_live_call_and_its_card(browser: Browser, server: Any) -> None:
    msisdn = "+" + str(demo.msisdn_of(np.array([7]))[0])
    page = browser.new_context().new_page()
    sign_in(page, server.url, "op1")
    asyncio.run_coroutine_threadsafe(
        server.telephony.simulator.play("answered", msisdn, agents=[(OP1, "Operator One")], speed=0.5),
        server.loop,
    )
    page.wait_for_selector("#card[data-state=found]")
    name = page.inner_text("#card .name")
    page.reload()
    page.wait_for_selector("#card[data-state=found]")
    assert page.inner_text("#card .name") == name
    assert page.get_attribute("#call-banner", "data-state") in ("ringing", "connected", "wrap_up")


def test_unknown_number_shows_search_and_language_switch(browser: Browser, server: Any) -> None:
    page = browser.new_context().new_page()
    sign_in(page, server.url, "op1")
    asyncio.run_coroutine_threadsafe(
        server.telephony.simulator.play("answered", "+79990000001", agents=[(OP1, "Operator One")]),
        server.loop,
    )
    page.wait_for_selector("#card[data-state=unknown]")
    assert "не найден" in page.inner_text("#card")
    page.click("button[data-lang=en]")
    page.wait_for_function("() => document.querySelector('#search').placeholder.startsWith('Search')")
    # search by a half-typed number gives a clear message, not an error page
    page.fill("#search", "9")
    page.press("#search", "Enter")
    page.wait_for_selector("#search-results .notice")
    assert "at least 2" in page.inner_text("#search-results")
    page.click("button[data-lang=ru]")


def test_operator_dials_the_subscriber_from_the_card(browser: Browser, server: Any) -> None:
    msisdn = "+" + str(demo.msisdn_of(np.array([11]))[0])
    sim = server.telephony.simulator
    add_user(server.container, "op3", display_name="No Phone")  # no extension: nothing to call from
    page = browser.new_context(locale="ru-RU").new_page()
    sign_in(page, server.url, "op1")
    asyncio.run_coroutine_threadsafe(
        sim.play("answered", msisdn, agents=[(OP1, "Operator One")], speed=0.5), server.loop
    )
    page.wait_for_selector("#card[data-state=found]")
    page.click("#card .f.msisdn button.dial")
    page.wait_for_selector(".toast.ok")  # shown once the PBX accepted the Originate: it is recorded by then
    sent = sim.originates[-1]
    # the operator's own phone rings first, then the dialplan dials the digits (no '+')
    assert (sent["channel"], sent["exten"]) == ("PJSIP/1001", msisdn.lstrip("+"))
    # a callback the operator promised: its own dial button in the list of callbacks
    subscriber = server.call(server.container.billing.lookup_caller(msisdn)).card.subscriber_id
    with httpx.Client(base_url=server.url) as client:
        client.post("/api/auth/login", json={"username": "op1", "password": PASSWORD})
        due = datetime.now(UTC).isoformat()
        callback = {
            "due_at": due,
            "subscriber_id": subscriber,
            "msisdn": msisdn,
            "note": "перезвоните вечером",
        }
        r = client.post("/api/callbacks", json=callback)
        assert r.status_code == 200, r.text
    page.reload()
    page.click("#panel-callbacks #cb-list button.dial")
    page.wait_for_selector(".toast.ok")  # the reloaded page's first: this dial's
    assert len(sim.originates) == 2
    assert sim.originates[-1]["exten"] == msisdn.lstrip("+")
    # an operator without a phone gets the refusal in the page's language, not a bare HTTP error
    other = browser.new_context(locale="ru-RU").new_page()
    sign_in(other, server.url, "op3")
    other.fill("#search", msisdn)
    other.press("#search", "Enter")
    other.wait_for_selector("#card[data-state=found] .f.msisdn button.dial")
    other.click("#card .f.msisdn button.dial")
    other.wait_for_selector(".toast.error")
    assert "внутренний номер" in other.inner_text(".toast.error")
    assert len(sim.originates) == 2


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit())
