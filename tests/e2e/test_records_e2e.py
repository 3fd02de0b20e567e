"""The request record panel and the supervisor's requests page in Chromium, against the served app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from billing_adapter.memory import MemoryBilling, make_card
from tests.apphelpers import PASSWORD, Serve, add_user, make_container, open_card, sign_in_page
from tests.support.models import install_pretrained


@pytest.fixture
def server(serve: Serve, tmp_path: Path) -> Iterator[Any]:
    install_pretrained(tmp_path / "models")
    billing = MemoryBilling()
    billing.add(make_card("1", "79161234567", name="Смирнова Анна Петровна", balance=-42.5))
    container = make_container(tmp_path, billing=billing)
    container.records.classifier.registry.refresh()
    add_user(container, "op1", display_name="Operator One")
    add_user(container, "sup", role="supervisor", display_name="Supervisor")
    srv = serve(container)
    return srv


def open_subscriber(page: Page) -> None:
    open_card(page, "79161234567", "#panel-requests #rec-note")


def test_operator_types_a_note_picks_a_suggestion_with_a_key_and_finishes(
    browser: Browser, server: Any
) -> None:
    page = browser.new_context(locale="ru-RU").new_page()
    sign_in_page(page, server.url, "op1", "operator.html")
    open_subscriber(page)
    page.fill("#rec-note", "не приходят смс от банка")
    # the fast model answers first, the refined one a moment later: wait for the suggestion, not the first answer
    first = page.locator("#rec-suggestions button.rec-sug").first
    first.wait_for()
    expect(first).to_have_attribute("data-code", "sms_problem")
    expect(first).to_contain_text("Проблемы с SMS")
    expect(first).to_contain_text("%")
    page.keyboard.press("Alt+1")  # while typing, Alt+1 picks the first suggestion
    page.wait_for_selector("#rec-chosen [data-code=sms_problem]")
    page.select_option("#rec-pick", "device_settings")  # a second topic, by hand
    page.wait_for_selector("#rec-chosen [data-code=device_settings]")
    page.check("input[name=rec-outcome][value=callback]")
    page.reload()  # the draft survives a reload of the tab
    open_subscriber(page)
    assert page.input_value("#rec-note") == "не приходят смс от банка"
    page.wait_for_selector("#rec-chosen [data-code=device_settings]")
    assert page.is_checked("input[name=rec-outcome][value=callback]")
    page.click("#rec-finish")
    page.wait_for_selector("#rec-history li")
    history = page.inner_text("#rec-history")
    assert "Проблемы с SMS" in history
    assert "Настройка устройства" in history
    assert "Перезвонить" in history
    assert page.input_value("#rec-note") == ""  # a fresh record after finishing


def test_unrelated_note_offers_other_first_and_needs_the_note(browser: Browser, server: Any) -> None:
    page = browser.new_context().new_page()
    sign_in_page(page, server.url, "op1", "operator.html")
    open_subscriber(page)
    page.fill("#rec-note", "хочу заказать пиццу")
    page.wait_for_selector("#rec-other-first")
    first_button = page.locator("#rec-suggestions button").first
    assert first_button.get_attribute("id") == "rec-other"
    first_button.click()
    page.wait_for_selector("#rec-chosen [data-code=other]")
    page.fill("#rec-note", "")
    page.click("#rec-finish")
    page.wait_for_selector("#rec-status:not(:empty)")
    assert page.inner_text("#rec-chosen").startswith("Другое")  # nothing lost on the error
    page.click("header .lang button[data-lang=en]")
    page.wait_for_selector("#panel-requests h3:text('Request')")


def test_supervisor_sees_charts_and_archives_a_topic(browser: Browser, server: Any) -> None:
    page = browser.new_context().new_page()
    sign_in_page(page, server.url, "op1", "operator.html")
    open_subscriber(page)
    page.fill("#rec-note", "роуминг в турции не работает")
    page.locator("#rec-suggestions button.rec-sug").first.wait_for()
    page.keyboard.press("Alt+1")
    page.click("#rec-finish")
    page.wait_for_selector("#rec-history li")
    page.context.clear_cookies()

    sign_in_page(page, server.url, "sup", "supervisor.html")
    page.goto(server.url + "/supervisor-requests.html")
    page.wait_for_selector("#stats-chart polyline[data-code=roaming]")
    assert page.inner_text("#stats-total") == "1"
    assert "1-я принята 1," in page.inner_text("#acceptance")  # the operator took suggestion 1
    assert page.inner_text("#stats-table tr[data-code=roaming] td:nth-child(2)") == "1"
    # where operators override the suggestion: the roaming record took the first one
    row = page.wait_for_selector("#overrides-table tr[data-code=roaming]")
    assert row is not None
    assert row.inner_text().split("\t")[1:4] == ["1", "1", "0 (0%)"]
    # another operator's finished request reaches the open page live (websocket), without a reload
    import httpx

    with httpx.Client(base_url=server.url) as api:
        api.post("/api/auth/login", json={"username": "op1", "password": PASSWORD})
        r = api.post(
            "/api/records",
            json={"note": "нет сети", "topics": ["no_network"], "outcome": "resolved", "finish": True},
        )
        assert r.status_code == 200
    page.wait_for_selector("#stats-table tr[data-code=no_network]")
    assert page.inner_text("#stats-total") == "2"
    page.click("#topic-table tr[data-code=sms_problem] button.archive")
    page.wait_for_selector("#topic-table tr.archived[data-code=sms_problem]")
    # move a topic to another section
    page.select_option("#topic-table tr[data-code=complaint_quality] select.move", "network")
    page.click("#topic-table tr[data-code=complaint_quality] button.save")
    page.wait_for_selector("#topic-table tr[data-code=complaint_quality] ~ tr[data-code=general]")
    assert page.input_value("#topic-table tr[data-code=complaint_quality] select.move") == "network"
    # the page says "no new groups" before any run too: wait for this run's answer to be drawn (the pressed
    # button stays disabled until the emerging topics are drawn again, with a new button), then read it
    with page.expect_response("**/api/records/emerging/run") as run:
        page.click("#emerging-run")
    assert run.value.ok
    expect(page.locator("#emerging-run")).to_be_enabled()
    expect(page.locator("#no-clusters")).to_be_visible()
    page.wait_for_selector("#model table tr:nth-child(2)")


def test_supervisor_promotes_an_emerging_cluster_to_a_topic(browser: Browser, server: Any) -> None:
    import httpx

    with httpx.Client(base_url=server.url) as api:
        assert api.post("/api/auth/login", json={"username": "op1", "password": PASSWORD}).status_code == 200
        for note in [
            "не работает есим на часах, звоните +7 916 123-45-67",
            "есим на часах не активируется",
            "часы с есим не видят сеть",
            "на часах есим пропала связь",
        ]:
            r = api.post(
                "/api/records",
                json={"note": note, "topics": ["other"], "outcome": "callback", "finish": True},
            )
            assert r.status_code == 200
    page = browser.new_context().new_page()
    sign_in_page(page, server.url, "sup", "supervisor.html")
    page.goto(server.url + "/supervisor-requests.html")
    page.click("#emerging-run")
    cluster = page.locator("#clusters .cluster").first
    cluster.wait_for()
    text = cluster.inner_text()
    assert "есим" in text
    assert "Обращений: 4" in text
    assert "916" not in text  # the phone number in a note is masked
    cluster.locator(".promote-code").fill("esim_watch")
    cluster.locator(".promote-ru").fill("eSIM на часах")
    cluster.locator(".promote-en").fill("eSIM on watches")
    cluster.locator("select").select_option("number_sim")
    cluster.locator("button.promote").click()
    page.wait_for_selector("#topic-table tr[data-code=esim_watch]")
    page.wait_for_selector("#no-clusters")
