"""The operator's screen as a new operator meets it (issue 12), in Chromium against the served app.

A call is driven through the call service with the events telephony hands it (queued, offered,
answered, ended), so each test knows exactly where the call is without waiting on a trace's timing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from billing_adapter.memory import MemoryBilling, make_card
from knowledge_base.seed import seed
from telephony.events import CallAnswered, CallEnded, CallOffered, CallQueued
from tests.apphelpers import (
    PASSWORD,
    Serve,
    ServerThread,
    add_user,
    make_container,
    sign_in_page,
)
from tests.support.models import install_pretrained
from workstation.app import create_app
from workstation.campaigns.models import Campaign, CampaignTarget, SegmentExport

AGENT = "PJSIP/1001"
CALLER = "+79010167996"


@pytest.fixture
def server(serve: Serve, tmp_path: Path) -> Iterator[Any]:
    install_pretrained(tmp_path / "models")
    billing = MemoryBilling()
    billing.add(
        make_card(
            "1",
            "79010167996",
            name="Смирнова Анна Петровна",
            first_name="Анна",
            balance=-458.64,
            status="blocked",
            region="Москва",
        )
    )
    billing.add(make_card("2", "79031234567", name="Петров Пётр Петрович", region="Тверская область"))
    billing.add(make_card("3", "79037654321", name="Петров Пётр Петрович", region="Казань"))
    container = make_container(tmp_path, billing=billing)
    container.records.classifier.registry.refresh()
    add_user(container, "op1", display_name="Ольга", interface=AGENT, extension="1001")
    add_user(container, "sup", role="supervisor", display_name="Светлана")
    add_user(container, "adm", role="admin", display_name="Админ")
    seed(container.knowledge_base.kb)
    _offer(container, "1")
    srv = serve(container)
    srv.tmp_path = tmp_path
    with httpx.Client(base_url=srv.url) as api:
        api.post("/api/auth/login", json={"username": "op1", "password": PASSWORD})
        r = api.post(
            "/api/tickets",
            json={
                "subscriber_id": "1",
                "topic": "mobile_data",
                "note": "Не работает интернет после смены тарифа",
            },
        )
        assert r.status_code == 200, r.text
    return srv


def _offer(container: Any, subscriber_id: str) -> None:
    today = date.today()
    with container.db.session() as s:
        labels = {"cluster:0": "roaming-leaning, negative balance", "cluster:1": "subscription-leaning #2"}
        counts = {"tier:high": 12, "cluster:0": 7, "cluster:1": 5}
        s.add(
            SegmentExport(
                id="exp-1",
                state="done",
                month_from="2026-01",
                month_to="2026-06",
                path=None,
                rows=24,
                summary={"segments": {"labels": labels, "counts": counts}},
            )
        )
        s.flush()
        c = Campaign(
            name="Безлимит для ценных",
            offer_text="Скидка 20% на Безлимит на 3 месяца",
            export_id="exp-1",
            segments=["tier:high"],
            starts_on=today - timedelta(days=1),
            ends_on=today + timedelta(days=30),
            state="active",
            targets_count=1,
        )
        s.add(c)
        s.flush()
        s.add(CampaignTarget(campaign_id=c.id, subscriber_id=subscriber_id))


def call_event(srv: Any, event: Any) -> None:
    srv.call(srv.container.calls.handle(event))


def ring_and_answer(srv: Any, call_id: str = "c-1", caller: str = CALLER) -> None:
    now = time.time()
    call_event(srv, CallQueued(call_id=call_id, at=now - 5, caller=caller, queue="support"))
    call_event(
        srv,
        CallOffered(
            call_id=call_id, at=now - 3, caller=caller, agent=AGENT, extension="1001", queue="support"
        ),
    )
    call_event(
        srv,
        CallAnswered(
            call_id=call_id, at=now - 1, caller=caller, agent=AGENT, extension="1001", queue="support"
        ),
    )


def hang_up(srv: Any, call_id: str = "c-1") -> None:
    call_event(
        srv, CallEnded(call_id=call_id, at=time.time(), agent=AGENT, extension="1001", hangup_by="caller")
    )


def operator_page(browser: Browser, srv: Any, width: int = 1366, height: int = 768, **ctx: Any) -> Page:
    page = browser.new_context(locale="ru-RU", viewport={"width": width, "height": height}, **ctx).new_page()
    sign_in_page(page, srv.url, "op1")
    page.wait_for_selector("#ws-indicator[data-state=online]")
    return page


def inside_viewport(page: Page, selector: str) -> bool:
    """The element is rendered and its whole box lies within the window (nothing to scroll to)."""
    return bool(
        page.evaluate(
            """(sel) => { const el = document.querySelector(sel); if (!el) return false;
             const r = el.getBoundingClientRect();
             return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0
               && r.bottom <= window.innerHeight && r.right <= window.innerWidth; }""",
            selector,
        )
    )


def test_first_screen_at_1366x768_shows_everything_a_call_needs_without_scrolling(
    browser: Browser, server: Any
) -> None:
    page = operator_page(browser, server)
    ring_and_answer(server)
    page.wait_for_selector("#call-banner[data-state=connected]")
    page.wait_for_selector("#card[data-state=found] .name")
    page.fill("#rec-note", "не работает мобильный интернет")
    page.locator("#rec-suggestions button.rec-sug").first.wait_for()
    page.keyboard.press("Alt+1")  # the first suggestion becomes the topic: its script comes up
    page.wait_for_selector("#kb-script")
    page.wait_for_selector("#panel-offers .offer")
    page.wait_for_selector("#tk-list li[data-ticket]")
    for sel in (
        "#call-banner",
        "#card .band",
        "#rec-note",
        "#rec-suggestions",
        "#rec-finish",
        "#kb-script",
        "#tk-list li[data-ticket]",
        "#panel-offers .offer",
        "#panel-offers button[data-outcome=accepted]",
    ):
        assert inside_viewport(page, sel), f"{sel} is not inside the 1366×768 window"
    assert page.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight")  # no page scroll
    # the alerts sit in the top band
    alerts = page.inner_text("#card-alerts")
    assert "Отрицательный баланс" in alerts
    assert "Линия заблокирована" in alerts
    assert "Открытая заявка: 1" in alerts
    assert "Есть предложение: 1" in alerts
    import os

    if os.environ.get("SCREEN_SHOT"):
        page.screenshot(path=os.environ["SCREEN_SHOT"])


def test_the_open_tab_and_collapsed_history_are_remembered_for_the_operator(
    browser: Browser, server: Any
) -> None:
    page = operator_page(browser, server)
    page.fill("#search", "79010167996")
    page.press("#search", "Enter")
    page.wait_for_selector("#card[data-state=found]")
    page.click("#drill [data-tab=payments]")
    page.wait_for_selector("#drill [data-tab=payments].on")
    page.click("#rec-history-box summary")  # collapse the previous requests
    page.wait_for_function("() => !document.querySelector('#rec-history-box').open")
    page.wait_for_function(
        "() => fetch('/api/auth/me').then(r => r.json()).then(m => m.ui_prefs['op.tab'] === 'payments' && m.ui_prefs['op.rec.history'] === false)"
    )
    # another browser (another workstation): the same operator gets the same layout
    other = operator_page(browser, server)
    other.fill("#search", "79010167996")
    other.press("#search", "Enter")
    other.wait_for_selector("#drill [data-tab=payments].on")
    other.wait_for_selector("#rec-history-box")
    assert not other.evaluate("document.querySelector('#rec-history-box').open")
    assert other.is_hidden("#panel-kb")


def open_card(page: Page, number: str = "79010167996") -> None:
    page.fill("#search", number)
    page.press("#search", "Enter")
    page.wait_for_selector("#card[data-state=found] .name")
    page.wait_for_selector("#panel-requests #rec-note")


def test_times_show_in_the_operators_zone_moscow(browser: Browser, server: Any) -> None:
    from workstation.models import Call

    with server.container.db.session() as s:  # 10:00 UTC is 13:00 in Moscow
        s.add(
            Call(
                id="old-1",
                caller=CALLER,
                state="ended",
                subscriber_id="1",
                queued_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
                answered_at=datetime(2026, 11, 30, 10, 0, 20, tzinfo=UTC),
                ended_at=datetime(2026, 11, 30, 10, 4, tzinfo=UTC),
            )
        )
    page = operator_page(browser, server, timezone_id="Europe/Moscow")
    open_card(page)
    page.click("#drill [data-tab=calls]")
    row = page.locator("#drill-body table.prev-calls tr", has_text="завершён")
    row.wait_for()
    assert "30.11.2026, 13:00:00" in row.inner_text()
    # the ticket created at start-up: its time is in Moscow time too (UTC+3, no DST)
    created = page.inner_text("#tk-list li[data-ticket]")
    now_msk = datetime.now(UTC) + timedelta(hours=3)
    assert now_msk.strftime("%d.%m.%Y") in created


def test_numbers_and_money_read_one_way_everywhere(browser: Browser, server: Any) -> None:
    page = operator_page(browser, server)
    ring_and_answer(server)
    page.wait_for_selector("#card[data-state=found] .name")
    assert page.inner_text("#call-banner .caller") == "+7 901 016-79-96"
    assert page.inner_text("#card .msisdn .v") == "+7 901 016-79-96"
    balance = page.inner_text("#card .balance .v")
    assert balance == "-458,64\u00a0₽"
    page.select_option("#kb-topic", "mobile_data")
    page.wait_for_selector("#kb-script")
    assert f"Ваш баланс {balance}, тариф" in page.inner_text("#kb-script")  # the same money as the card
    page.click("button[data-lang=en]")
    page.wait_for_function("() => document.querySelector('#card .balance .v').textContent.startsWith('-RUB')")
    en_balance = page.inner_text("#card .balance .v")
    page.select_option("#kb-topic", "mobile_data")
    page.wait_for_function("() => document.querySelector('#kb-script')?.textContent.startsWith('Hello')")
    assert f"Your balance is {en_balance} on the" in page.inner_text("#kb-script")
    # the match list reads the numbers the same way
    page.fill("#search", "Петров")
    page.press("#search", "Enter")
    page.wait_for_selector("#search-results .match")
    assert "+7 903 123-45-67" in page.inner_text("#search-results")


def test_server_errors_read_in_the_pages_language(browser: Browser, server: Any) -> None:
    page = operator_page(browser, server)
    open_card(page)
    page.click("#tk-escalate summary")
    page.select_option("#tk-topic", "mobile_data")
    page.fill("#tk-note", " ")
    page.click("#tk-send")
    toast = page.locator(".toast.error").last
    toast.wait_for()
    assert toast.inner_text() == "Опишите проблему: что проверено и что видит абонент"
    page.click("button[data-lang=en]")
    page.wait_for_selector("#panel-requests h3:text('Request')")
    page.click("#tk-escalate summary")
    page.select_option("#tk-topic", "mobile_data")
    page.fill("#tk-note", " ")
    page.click("#tk-send")
    page.wait_for_selector(
        ".toast.error:text('Describe the problem: what was tried and what the subscriber sees')"
    )


def test_escalating_passes_the_request_on_prefills_the_note_and_closes_the_form(
    browser: Browser, server: Any
) -> None:
    page = operator_page(browser, server)
    open_card(page)
    assert page.is_checked("input[name=rec-outcome][value=resolved]")
    page.fill("#rec-note", "Интернет не работает, APN проверен, перезагрузка не помогла")
    page.click("#tk-escalate summary")
    assert page.input_value("#tk-note") == "Интернет не работает, APN проверен, перезагрузка не помогла"
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
    with ServerThread(create_app(container), port=server.port):
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


def test_a_card_searched_during_a_call_is_told_apart_from_the_callers(browser: Browser, server: Any) -> None:
    page = operator_page(browser, server)
    ring_and_answer(server, "c-4")
    page.wait_for_selector("#card[data-state=found][data-origin=call] .name")
    assert page.inner_text("#card .name") == "Смирнова Анна Петровна"
    # two namesakes: the list tells them apart by region, the number's last digits and the account
    page.fill("#search", "Петров")
    page.press("#search", "Enter")
    page.wait_for_selector("#search-results .match")
    items = page.locator("#search-results .match").all_inner_texts()
    assert any("Тверская область" in x and "45-67" in x and "ACC00000002" in x for x in items)
    assert any("Казань" in x and "43-21" in x and "ACC00000003" in x for x in items)
    page.click("#search-results .match[data-id='3']")
    page.wait_for_selector("#card[data-origin=search] #searched-note")
    assert "+7 901 016-79-96" in page.inner_text("#searched-note")  # who is really on the line
    page.click("#back-to-caller")
    page.wait_for_selector("#card[data-origin=call]")
    assert page.inner_text("#card .name") == "Смирнова Анна Петровна"
    assert page.locator("#searched-note").count() == 0


def test_supervisor_floor_and_working_days_read_as_they_are(browser: Browser, server: Any) -> None:
    sup = browser.new_context(locale="ru-RU").new_page()
    sign_in_page(sup, server.url, "sup", "supervisor.html")
    sup.click("#sup-nav a[href='/supervisor-support.html']")
    sup.click("#ss-tabs button[data-tab=sla]")
    sup.wait_for_selector("#ss-weekdays")
    assert sup.inner_text("#ss-weekdays").split() == ["пн", "вт", "ср", "чт", "пт", "сб", "вс"]
    sup.check("#ss-weekdays input[data-day='5']")  # Saturday becomes a working day
    sup.click("#ss-save-hours")
    sup.wait_for_selector(".toast:has-text('Сохранено')")
    with httpx.Client(base_url=server.url) as api:
        api.post("/api/auth/login", json={"username": "sup", "password": PASSWORD})
        assert api.get("/api/tickets/config").json()["business_hours"]["weekdays"] == [0, 1, 2, 3, 4, 5]
    sup.click("#sup-nav a[href='/supervisor.html']")
    sup.wait_for_selector("#kpi-telephony")
    server.__exit__(None, None, None)  # the server goes away: the floor must not say "connected"
    sup.wait_for_selector("#kpi-telephony[data-state=unknown]")
    assert "нет связи с сервером" in sup.inner_text("#kpi-telephony")


def test_admin_launches_campaigns_and_the_picker_shows_no_internal_ids(browser: Browser, server: Any) -> None:
    page = browser.new_context(locale="ru-RU").new_page()
    sign_in_page(page, server.url, "adm", "supervisor.html")
    page.goto(server.url + "/marketing.html")
    page.wait_for_selector("#mkt-launch")  # admin may launch, as README says
    option = page.inner_text("#mkt-export option")
    assert "exp-1" not in option
    assert "2026-01 — 2026-06: 24 абонентов" in option
    segments = page.inner_text("#mkt-segments")
    assert "(#" not in segments
    assert "выше среднего: роуминг, отрицательный баланс" in segments
    assert "выше среднего: абонплата, группа 2" in segments
    assert "#2" not in segments


def test_routing_editor_picks_topics_and_reports_every_error_at_once(browser: Browser, server: Any) -> None:
    sup = browser.new_context(locale="ru-RU").new_page()
    sign_in_page(sup, server.url, "sup", "supervisor.html")
    sup.goto(server.url + "/supervisor-support.html")
    rows = sup.locator("#ss-routes tbody tr")
    rows.first.wait_for()
    before = rows.count()
    assert sup.locator("#ss-routes tbody tr select[data-f=topic] option[value=roaming]").count() == before
    sup.click("text=Добавить строку")
    sup.click("text=Добавить строку")
    first_topic = rows.nth(0).locator("select[data-f=topic]").input_value()
    new1, new2 = rows.nth(before), rows.nth(before + 1)
    new1.locator("select[data-f=topic]").select_option("roaming")
    new1.locator("input[data-f=group]").fill("bad group!")
    new2.locator("select[data-f=topic]").select_option(first_topic)  # listed twice
    new2.locator("input[data-f=group]").fill("network")
    sup.click("#ss-save-routes")
    sup.wait_for_selector("#ss-routes tr.bad")
    assert sup.locator("#ss-routes tr.bad").count() >= 2  # both rows, in one answer
    assert "латинские" in new1.inner_text()
    assert "дважды" in new2.inner_text()
    sup.wait_for_selector(".toast.error:has-text('ошибок')")
