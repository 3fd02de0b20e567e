"""The wallboard end to end: AMI simulator over TCP → workstation → websocket → the supervisor's Chromium.

Real Asterisk captures are played: an answered call (2 s wait), then a caller who waits 7 s with nobody
to answer and hangs up. Service-level threshold 3 s: the board's offered and waiting counts change without
a reload, and the service level falls from 100 % to 50 % once the second caller has waited past 3 s.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from telephony.simulated import SimulatedTelephony
from tests.apphelpers import Serve, add_user, make_container, sign_in_page

OP1 = "Local/1001@agents/n"


@pytest.fixture
def server(serve: Serve, tmp_path: Path) -> Any:
    tel = SimulatedTelephony(calls_per_min=0)
    container = make_container(tmp_path, telephony=tel, kpi_sl_threshold_s=3, kpi_timezone="UTC")
    add_user(container, "op1", display_name="Operator One", interface=OP1, extension="1001")
    add_user(container, "boss", role="supervisor", display_name="Floor Boss")
    srv = serve(container)
    srv.telephony = tel
    return srv


def test_board_counts_calls_live_and_service_level_drops_past_the_threshold(
    browser: Browser, server: Any
) -> None:
    sim = server.telephony.simulator
    page = browser.new_context(locale="ru-RU").new_page()
    sign_in_page(page, server.url, "boss", home="supervisor.html")
    page.wait_for_selector("#ws-indicator[data-state=online]")
    page.wait_for_selector("#wb-offered")
    assert page.inner_text("#wb-offered") == "0"
    assert page.inner_text("#wb-sl") == "—"
    asyncio.run_coroutine_threadsafe(
        sim.play("answered", "+79161234567", agents=[(OP1, "Operator One")]), server.loop
    ).result(30)
    expect(page.locator("#wb-answered")).to_have_text("1", timeout=20000)
    assert page.inner_text("#wb-offered") == "1"
    assert page.inner_text("#wb-sl") == "100 %"
    # a caller nobody answers: waiting now, then past the threshold
    done = asyncio.run_coroutine_threadsafe(sim.play("abandon", "+79265550101"), server.loop)
    expect(page.locator("#wb-waiting")).to_have_text("1", timeout=20000)
    assert page.inner_text("#wb-offered") == "2"
    expect(page.locator("#wb-sl")).to_have_text("50 %", timeout=10000)
    assert "bad" in (page.get_attribute("#wb-sl-tile", "class") or "")
    assert re.fullmatch(r"00:0[3-9]", page.inner_text("#wb-longest"))
    done.result(30)
    expect(page.locator("#wb-waiting")).to_have_text("0", timeout=20000)
    assert page.inner_text("#wb-abandoned") == "1"
    assert page.inner_text("#wb-sl") == "50 %"
    # the formula is on the screen, in the page's language
    page.click(".wb-formula summary")
    assert "≤ 3" in page.inner_text(".wb-formula")
    page.click("button[data-lang=en]")
    expect(page.locator("#wb-sl-tile .wb-label")).to_have_text("Service level", timeout=20000)
