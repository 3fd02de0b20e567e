"""The operator's screen as a new operator meets it (issue 12), in Chromium against the served app: what one
screen shows at 1366×768, what it remembers, and how times, numbers, money, errors and a searched card read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Browser

from tests.e2e.operator_screen.screen import (
    CALLER,
    inside_viewport,
    open_card,
    operator_page,
    ring_and_answer,
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


def test_enter_in_the_search_before_the_page_has_booted_does_not_reload_it(
    browser: Browser, server: Any
) -> None:
    page = operator_page(browser, server)
    held: list[Any] = []
    page.route(
        "**/js/operator.js", lambda route: held.append(route)
    )  # the screen's script waits until the test lets it load
    with page.expect_request("**/js/operator.js"):
        page.reload(wait_until="commit")
    page.wait_for_selector("#search", state="attached")
    page.evaluate("window.sameDocument = true")
    page.focus("#search")
    page.keyboard.type("79010167996")
    page.keyboard.press("Enter")  # the operator's habit, a moment too early
    held[0].continue_()
    page.unroute("**/js/operator.js")
    page.wait_for_selector("#ws-indicator[data-state=online]")
    assert page.evaluate("window.sameDocument === true")  # no reload: the page is the one that was loading
    open_card(page)  # and the search works once it has booted
