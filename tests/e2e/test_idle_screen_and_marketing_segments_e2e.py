"""QA of the browser flows, in Chromium against the served app with the demo billing and the AMI simulator:
the operator's screen returns to idle once the request is finished (history reads "completed", errors in
Russian), and the marketing page shows readable segments and says what a campaign still needs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser

from billing_adapter import demo
from telephony.simulated import SimulatedTelephony
from tests.apphelpers import PASSWORD, Serve, add_user, make_container, sign_in_page
from workstation.adapters import make_billing
from workstation.settings import Settings

OP1 = "Local/1001@agents/n"
KEY = "qa-e2e-pseudonym-key-0123456789abcdef012"


@pytest.fixture(scope="module")
def server(serve_module: Serve, tmp_path_factory: Any) -> Iterator[Any]:
    tmp_path = tmp_path_factory.mktemp("qa")
    billing_db = tmp_path / "billing.db"
    demo.generate_sqlite(billing_db, demo.DemoSpec(subscribers=1200, seed=5, as_of=date(2026, 7, 1)))
    url = f"sqlite:///{billing_db}"
    billing = make_billing(Settings(billing_url=url, data_dir=tmp_path))
    tel = SimulatedTelephony(calls_per_min=0)
    container = make_container(tmp_path, billing=billing, telephony=tel, billing_url=url, pseudonym_key=KEY)
    add_user(container, "op1", display_name="Operator One", interface=OP1, extension="1001")
    add_user(container, "ana", role="analyst", display_name="Analyst")
    add_user(container, "mkt", role="marketing", display_name="Marketing")
    srv = serve_module(container)
    srv.telephony = tel
    return srv


def test_finishing_the_request_returns_the_operator_screen_to_idle(browser: Browser, server: Any) -> None:
    msisdn = "+" + str(demo.msisdn_of(np.array([42]))[0])
    page = browser.new_context(locale="ru-RU").new_page()
    sign_in_page(page, server.url, "op1", "operator.html")
    page.wait_for_selector("#ws-indicator[data-state=online]")
    asyncio.run_coroutine_threadsafe(
        server.telephony.simulator.play("answered", msisdn, agents=[(OP1, "Operator One")]), server.loop
    )
    page.wait_for_selector("#card[data-state=found]")
    name = page.inner_text("#card .name")
    page.wait_for_selector("#call-banner[data-state=wrap_up]", timeout=20000)
    # finishing without a topic: the server's refusal reads in the page's language
    page.click("#rec-finish")
    page.wait_for_selector("#rec-status:has-text('Выберите хотя бы одну тему')")
    page.fill("#rec-note", "Не работает мобильный интернет")
    page.select_option("#rec-pick", "mobile_data")
    page.click("#rec-finish")
    # the call is over and its request recorded: no card, no panels, no banner left from it
    page.wait_for_selector("#call-banner[data-state=idle]")
    page.wait_for_selector("#card[data-state=idle]", state="attached")
    assert page.locator("#panels .panel").count() == 0
    # the call's history reads "completed", not "after-call work" forever
    page.fill("#search", msisdn)
    page.press("#search", "Enter")
    page.wait_for_selector("#card[data-state=found]")
    assert page.inner_text("#card .name") == name
    page.click("#drill [data-tab=calls]")
    page.wait_for_selector("#drill-body td:has-text('завершён')")
    # switching the language keeps the open tab, now in English
    page.click("button[data-lang=en]")
    page.wait_for_selector("#drill-body td:has-text('completed')")
    page.click("button[data-lang=ru]")
    page.wait_for_selector("#drill-body td:has-text('завершён')")
    # the shortcut list: one row per action, closed by Escape
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("?")
    rows = page.locator("#help tr").all_inner_texts()
    picks = [r for r in rows if "подсказку" in r]
    assert len(picks) == 1
    assert "alt+1" in picks[0]
    assert "3" in picks[0]
    page.keyboard.press("Escape")
    page.wait_for_selector("#help", state="detached")


def _export(srv: Any) -> str:
    with httpx.Client(base_url=srv.url) as c:
        c.post("/api/auth/login", json={"username": "ana", "password": PASSWORD}).raise_for_status()
        job = c.post("/api/exports", json={"month_from": "2026-01", "month_to": "2026-06", "k": 5}).json()
        srv.container.segments.exports.wait(job["id"], timeout=120)  # the export's own thread ends
        job = c.get(f"/api/exports/{job['id']}").json()
        assert job["state"] == "done", job
        return str(job["id"])


def test_marketing_sees_readable_segments_and_what_a_campaign_still_needs(
    browser: Browser, server: Any
) -> None:
    _export(server)
    page = browser.new_context(locale="ru-RU").new_page()
    sign_in_page(page, server.url, "mkt", "marketing.html")
    page.wait_for_selector(".mkt-seg")
    segments = page.inner_text("#mkt-segments")
    assert "высокий ARPU" in segments
    assert "выше среднего" in segments
    assert "tier:" not in segments
    assert "cluster:" not in segments
    page.click("#mkt-launch")
    page.wait_for_selector("#mkt-error:has-text('Укажите название')")
    page.fill("#mkt-name", "Роуминг для ценных")
    page.fill("#mkt-offer", "Пакет «Роуминг 5 ГБ» со скидкой")
    page.click("#mkt-launch")
    page.wait_for_selector("#mkt-error:has-text('Выберите хотя бы один сегмент')")
    page.check("input.mkt-seg[value='tier:high']")
    page.click("#mkt-launch")
    page.wait_for_selector("#campaigns tr[data-id]")
    assert "высокий ARPU" in page.inner_text("#campaigns tr[data-id]")
    # a fresh form: a second click cannot launch the same campaign twice
    assert page.input_value("#mkt-name") == ""
    assert page.inner_text("#mkt-error") == ""


def test_a_call_from_an_unknown_number_can_still_be_recorded(browser: Browser, server: Any) -> None:
    page = browser.new_context(locale="ru-RU").new_page()
    sign_in_page(page, server.url, "op1", "operator.html")
    page.wait_for_selector("#ws-indicator[data-state=online]")
    asyncio.run_coroutine_threadsafe(
        server.telephony.simulator.play("answered", "+79990000001", agents=[(OP1, "Operator One")]),
        server.loop,
    )
    page.wait_for_selector("#card[data-state=unknown]")
    # the request record is there for the call; panels about a subscriber are not
    page.wait_for_selector("#panel-requests #rec-note")
    assert page.locator("#panel-offers, #panel-tickets").count() == 0
    page.wait_for_selector("#call-banner[data-state=wrap_up]", timeout=20000)
    page.fill("#rec-note", "Спрашивал, как перейти к нам со своим номером")
    page.click("#rec-other")
    page.click("#rec-finish")
    page.wait_for_selector("#call-banner[data-state=idle]")
    assert page.locator("#panels .panel").count() == 0
