"""The operator's work around a call (issue 12), in Chromium against the served app: escalating, after-call
work, a server restart mid-note, a call back with its reminder."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Browser, expect

from telephony.events import CallAnswered, CallOffered, CallQueued
from tests.apphelpers import (
    PASSWORD,
    ServerThread,
    make_container,
    sign_in_page,
)
from tests.e2e.operator_screen.screen import (
    AGENT,
    CALLER,
    call_event,
    hang_up,
    open_card,
    operator_page,
    ring_and_answer,
)
from workstation.app import create_app
from workstation.commands.core import uvicorn_options


def test_escalating_passes_the_request_on_prefills_the_note_and_closes_the_form(
    browser: Browser, server: Any
) -> None:
    page = operator_page(browser, server)
    open_card(page)
    assert page.is_checked("input[name=rec-outcome][value=resolved]")
    page.fill("#rec-note", "Интернет не работает, APN проверен, перезагрузка не помогла")
    page.click("#tk-escalate summary")
    # the details element fires "toggle" in a later task: wait for the prefill, don't read it at once
    expect(page.locator("#tk-note")).to_have_value(
        "Интернет не работает, APN проверен, перезагрузка не помогла"
    )
    page.select_option("#tk-topic", "mobile_data")
    page.click("#tk-send")
    page.wait_for_selector(".toast:has-text('создана')")
    page.wait_for_function("() => !document.querySelector('#tk-escalate').open")  # the form closed
    assert page.is_checked("input[name=rec-outcome][value=escalated]")
    assert "Передано в техподдержку" in page.inner_text(".rec-outcome")


def test_after_call_work_shows_its_timer_and_asks_for_the_record_before_ending(
    browser: Browser, server: Any
) -> None:
    page = operator_page(browser, server)
    now = time.time()
    call_event(server, CallQueued(call_id="c-2", at=now - 5, caller=CALLER, queue="support"))
    call_event(server, CallOffered(call_id="c-2", at=now - 3, caller=CALLER, agent=AGENT, extension="1001"))
    page.wait_for_selector("#presence-state[data-state=ringing]")
    assert page.inner_text("#presence-state").startswith("Звонок")
    call_event(server, CallAnswered(call_id="c-2", at=now - 1, caller=CALLER, agent=AGENT, extension="1001"))
    page.wait_for_selector("#presence-state[data-state=on_call]")
    assert page.inner_text("#presence-label") == "После звонка"  # the selector: what comes after
    hang_up(server, "c-2")
    page.wait_for_selector("#presence-state[data-state=wrap_up] #acw-timer")
    assert page.inner_text("#presence-state").startswith("Постобработка")
    first = page.inner_text("#acw-timer")
    page.wait_for_function("(t) => document.querySelector('#acw-timer').textContent !== t", arg=first)
    page.keyboard.press("Alt+F")  # the shortcut asks too
    page.wait_for_selector("#no-record")
    page.keyboard.press("Escape")
    page.wait_for_selector("#no-record", state="detached")
    assert page.get_attribute("#call-banner", "data-state") == "wrap_up"  # nothing ended
    page.click("#finish-wrapup")
    page.click("#no-record-confirm")
    page.wait_for_selector("#call-banner[data-state=idle]")
    with httpx.Client(base_url=server.url) as api:
        api.post("/api/auth/login", json={"username": "op1", "password": PASSWORD})
        records = api.get("/api/records", params={"subscriber_id": "1"}).json()["records"]
    assert [r["outcome"] for r in records if r.get("call_id") == "c-2"] == ["no_record"]


def test_a_server_restart_keeps_the_card_and_the_typed_note_and_clears_the_notice(
    browser: Browser, server: Any
) -> None:
    page = operator_page(browser, server)
    ring_and_answer(server, "c-3")
    page.wait_for_selector("#card[data-state=found] .name")
    page.wait_for_selector("#panel-requests #rec-note")
    page.fill("#rec-note", "абонент просит перенести номер")
    # the server goes away (its live calls with it) while the operator is typing
    server.__exit__(None, None, None)
    page.wait_for_selector("#ws-indicator[data-state=offline]")
    page.click("#rec-pick")
    page.select_option("#rec-pick", "number_porting")
    page.click("#rec-finish")
    page.wait_for_selector("#rec-status:text('Сервер недоступен')")
    # it comes back on the same port with the same database: a fresh process knows no call
    container = make_container(server.tmp_path, billing=server.container.billing)
    with ServerThread(create_app(container), port=server.port, **uvicorn_options(container.settings)):
        page.wait_for_selector("#ws-indicator[data-state=online]", timeout=20000)
        page.wait_for_selector("#call-banner[data-state=idle]")
        page.wait_for_selector("#card[data-state=found] .name")  # the card is back
        page.wait_for_selector("#panel-requests #rec-note")
        assert page.input_value("#rec-note") == "абонент просит перенести номер"
        page.wait_for_selector("#rec-chosen [data-code=number_porting]")
        page.wait_for_function("() => document.querySelector('#rec-status').textContent === ''")
        page.click("#rec-finish")  # and it saves now
        page.wait_for_selector("#rec-history li")
        assert page.input_value("#rec-note") == ""


def test_call_back_is_a_task_with_a_reminder_click_to_dial_and_lists(browser: Browser, server: Any) -> None:
    page = operator_page(browser, server, timezone_id="Europe/Moscow")
    open_card(page)
    page.fill("#rec-note", "просит перезвонить, когда будет дома")
    page.select_option("#rec-pick", "number_porting")
    page.check("input[name=rec-outcome][value=callback]")
    page.wait_for_selector("#rec-callback-at")
    page.fill("#rec-callback-at", "")
    page.click("#rec-finish")
    page.wait_for_selector("#rec-status:text('Укажите, когда перезвонить')")  # a callback needs its time
    now_moscow = datetime.now(UTC) + timedelta(hours=3)  # the operator types their own (Moscow) time
    page.fill("#rec-callback-at", now_moscow.strftime("%Y-%m-%dT%H:%M"))
    page.click("#rec-finish")
    item = page.locator("#cb-list li[data-callback]")
    item.wait_for()
    assert "+7 901 016-79-96" in item.inner_text()
    assert now_moscow.strftime("%d.%m.%Y, %H:%M") in item.inner_text()  # shown in Moscow time
    assert item.locator("button.dial").count() == 1  # click-to-dial on the callback
    # the supervisor's list of due callbacks
    sup = browser.new_context(locale="ru-RU").new_page()
    sign_in_page(sup, server.url, "sup", "supervisor.html")
    sup.click("#sup-nav a[href='/supervisor-callbacks.html']")
    row = sup.locator("#sup-callbacks tr[data-callback]")
    row.wait_for()
    assert "Ольга" in row.inner_text()
    assert "+7 901 016-79-96" in row.inner_text()
    # it falls due: the server reminds the operator's screen
    assert server.call(server.container.callbacks.callbacks.remind_due()) == 1
    page.wait_for_selector(".toast:has-text('Пора перезвонить')")
    page.wait_for_selector("#cb-list li.due, #cb-list li.overdue")
    page.click("#cb-list li[data-callback] button.cb-done")
    page.wait_for_selector("#cb-list", state="detached")
    assert server.call(server.container.callbacks.callbacks.remind_due()) == 0  # reminded once
