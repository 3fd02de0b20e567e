"""Escalation end to end in Chromium: the operator sees the cheat sheet and the filled script, escalates;
the engineer's queue shows the ticket without a reload; the engineer takes and resolves it; the
operator's next card for that subscriber shows it resolved. The supervisor's script editor refuses an
unknown placeholder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from billing_adapter.memory import MemoryBilling, make_card
from knowledge_base.seed import seed
from tests.apphelpers import Serve, add_user, make_container, open_card, sign_in_page
from tests.support.models import install_pretrained


@pytest.fixture
def server(serve: Serve, tmp_path: Path) -> Iterator[Any]:
    install_pretrained(tmp_path / "models")
    billing = MemoryBilling()
    billing.add(
        make_card("1", "79161234567", name="Смирнова Анна Петровна", first_name="Анна", balance=-42.5)
    )
    container = make_container(tmp_path, billing=billing)
    container.records.classifier.registry.refresh()
    add_user(container, "op1", display_name="Ольга")
    add_user(
        container, "eng", role="tech_support", display_name="Олег", skills=["mobile_data"], group="network"
    )
    add_user(container, "sup", role="supervisor", display_name="Светлана")
    seed(container.knowledge_base.kb)
    srv = serve(container)
    return srv


def open_subscriber(page: Page) -> None:
    open_card(page, "79161234567", "#panel-tickets #tk-list")


def test_operator_escalates_engineer_sees_it_live_resolves_and_the_card_shows_it(
    browser: Browser, server: Any
) -> None:
    eng = browser.new_context(locale="ru-RU").new_page()
    sign_in_page(eng, server.url, "eng", "support.html")
    eng.wait_for_selector("#sp-queue thead")

    op = browser.new_context(locale="ru-RU").new_page()
    sign_in_page(op, server.url, "op1", "operator.html")
    open_subscriber(op)
    op.select_option("#kb-topic", "mobile_data")
    script = op.locator("#kb-script")
    script.wait_for()
    assert script.inner_text().startswith("Анна, здравствуйте! Меня зовут Ольга")
    assert "-42,50\u00a0₽" in script.inner_text()  # money as the card shows it
    op.locator("#kb-articles li[data-article=mobile-data-apn] button").click()
    assert "APN" in op.locator("#kb-articles .kb-body table").inner_text()

    op.click("#tk-escalate summary")
    assert op.input_value("#tk-topic") == "mobile_data"  # follows the cheat sheet's topic
    op.fill("#tk-note", "APN прописан, перезагрузка не помогла")
    op.click("#tk-send")
    mine = op.locator("#tk-list li[data-ticket]").first
    mine.wait_for()
    ticket_id = mine.get_attribute("data-ticket")
    assert mine.get_attribute("data-state") in ("new", "assigned")

    row = eng.locator(f"#sp-queue tr[data-ticket='{ticket_id}']")
    row.wait_for()  # pushed over the websocket: the engineer's page was not reloaded
    row.click()
    eng.wait_for_selector("#sp-note")
    assert eng.inner_text("#sp-note") == "APN прописан, перезагрузка не помогла"
    eng.click("#sp-detail button[data-action=take]")
    eng.wait_for_selector("#sp-state:has-text('в работе')")
    eng.fill("#sp-text", "Сброшен профиль APN в HLR")
    eng.click("#sp-detail button[data-action=resolve]")
    eng.wait_for_selector("#sp-state:has-text('решена')")

    op.reload()
    open_subscriber(op)
    done = op.locator(f"#tk-list li[data-ticket='{ticket_id}']")
    done.wait_for()
    assert done.get_attribute("data-state") == "resolved"
    assert "решена" in done.inner_text()
    assert "Сброшен профиль APN в HLR" in done.inner_text()


def test_supervisor_script_editor_refuses_an_unknown_placeholder(browser: Browser, server: Any) -> None:
    sup = browser.new_context(locale="ru-RU").new_page()
    sign_in_page(sup, server.url, "sup", "supervisor.html")
    sup.goto(server.url + "/supervisor-support.html")
    sup.click("#ss-tabs button[data-tab=scripts]")
    sup.click("text=roaming (ru)")
    sup.fill("#ss-sbody", "{first_name}, ваш паспорт {passport}")
    sup.click("#ss-ssave")
    toast = sup.locator(".toast.error")
    toast.wait_for()
    assert "passport" in toast.inner_text()
