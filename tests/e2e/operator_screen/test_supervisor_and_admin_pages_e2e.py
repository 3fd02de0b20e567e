"""The supervisor's and the admin's pages as issue 12 walked them, in Chromium against the served app: the floor
and working days, campaign launch, the routing editor."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Browser, expect

from tests.apphelpers import (
    PASSWORD,
    sign_in_page,
)


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
    expect(sup.locator("#kpi-telephony")).to_contain_text("нет связи с сервером")


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
