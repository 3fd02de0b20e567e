"""Retraining on the supervisor's requests page (issue 12, point 9): while the model trains the panel says so
with the seconds so far, in the tab that started it and in one opened meanwhile, and when it is done both
show the new version without a reload."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.apphelpers import Serve, add_user, make_container, sign_in_page
from tests.support.models import install_pretrained

VERSION = "#model .kpi b"


@pytest.fixture
def server(serve: Serve, tmp_path: Path) -> Iterator[Any]:
    install_pretrained(tmp_path / "models")
    container = make_container(tmp_path)
    container.records.classifier.registry.refresh()
    add_user(container, "sup", role="supervisor", display_name="Светлана")
    return serve(container)


def requests_page(browser: Browser, url: str) -> Page:
    page = browser.new_context(locale="ru-RU").new_page()
    sign_in_page(page, url, "sup", "supervisor.html")
    page.goto(url + "/supervisor-requests.html")
    page.wait_for_selector("#retrain")
    page.evaluate("() => { window.sameDocument = true; }")  # gone if the page reloads
    return page


def test_retraining_shows_its_progress_and_the_new_version_without_a_reload(
    browser: Browser, server: Any
) -> None:
    registry = server.container.records.classifier.registry
    before = int(registry.version)
    # the training itself waits until the test has seen the panel while it runs (a real training is seconds)
    go, train = threading.Event(), registry.train

    def held_train(*args: Any, **kwargs: Any) -> Any:
        go.wait(60)
        return train(*args, **kwargs)

    registry.train = held_train
    try:
        page = requests_page(browser, server.url)
        assert page.inner_text(VERSION) == str(before)
        page.click("#retrain")
        assert page.is_disabled("#retrain")
        # the seconds so far tick while it trains
        page.wait_for_selector("#model-status:text('Обучение… 1 с')")
        # a tab opened meanwhile sees the training too
        other = requests_page(browser, server.url)
        other.wait_for_selector("#model-status:has-text('Обучение…')")
        assert other.is_disabled("#retrain")
        go.set()
        for tab in (page, other):
            tab.wait_for_function(
                "([sel, v]) => document.querySelector(sel)?.textContent === v", arg=[VERSION, str(before + 1)]
            )
            assert tab.evaluate("() => window.sameDocument === true")  # no reload
            assert tab.is_enabled("#retrain")
        assert page.inner_text("#model-status").startswith(f"v{before + 1}: принята")
        assert f"v{before + 1}" in page.inner_text("#model table")
    finally:
        go.set()
        registry.train = train
