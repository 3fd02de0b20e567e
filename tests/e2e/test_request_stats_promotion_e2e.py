"""Request statistics after a cluster is promoted (issue 12, point 9): the promoted requests count once, under
the new topic — "Other" does not keep them — and the topics' counts add up to the total tile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.apphelpers import Serve, add_user, login, make_container, sign_in_page
from tests.support.models import install_pretrained

NOTES = [
    "умные часы с есим не регистрируются в сети",
    "есим в часах не активируется после покупки",
    "часы с есим перестали ловить связь",
    "не подключается есим на детских часах",
    "есим на часах пишет ошибка профиля",
]


@pytest.fixture
def server(serve: Serve, tmp_path: Path) -> Iterator[Any]:
    install_pretrained(tmp_path / "models")
    container = make_container(tmp_path)
    container.records.classifier.registry.refresh()
    add_user(container, "op1", display_name="Ольга")
    add_user(container, "sup", role="supervisor", display_name="Светлана")
    srv = serve(container)
    with httpx.Client(base_url=srv.url) as api:
        login(api, "op1")
        for note in NOTES:  # the model knows no such topic: the operators filed them under "Other"
            r = api.post(
                "/api/records",
                json={"note": note, "topics": ["other"], "outcome": "resolved", "finish": True},
            )
            assert r.status_code == 200, r.text
    return srv


def counts(page: Page) -> dict[str, int]:
    cells = page.locator("#stats-table tr[data-code]")
    return {
        cells.nth(i).get_attribute("data-code") or "": int(cells.nth(i).locator("td").nth(1).inner_text())
        for i in range(cells.count())
    }


def test_promoted_requests_count_once_under_the_new_topic(browser: Browser, server: Any) -> None:
    page = browser.new_context(locale="ru-RU").new_page()
    sign_in_page(page, server.url, "sup", "supervisor.html")
    page.goto(server.url + "/supervisor-requests.html")
    page.wait_for_selector("#stats-table tr[data-code=other]")
    assert counts(page) == {"other": len(NOTES)}
    page.click("#emerging-run")
    cluster = page.locator("#clusters .cluster").first
    cluster.wait_for()
    cluster.locator(".promote-code").fill("esim_watch")
    cluster.locator(".promote-ru").fill("eSIM на часах")
    cluster.locator(".promote-en").fill("eSIM on watches")
    cluster.locator("button.promote").click()
    page.wait_for_selector("#stats-table tr[data-code=esim_watch]")
    after = counts(page)
    assert after.get("other", 0) + after["esim_watch"] == len(NOTES)  # each request once
    assert after["esim_watch"] >= 3  # the cluster's requests moved
    assert "eSIM на часах" in page.inner_text("#stats-table tr[data-code=esim_watch]")
    assert int(page.inner_text("#stats-total")) == sum(after.values()) == len(NOTES)
