"""Browser tier: the app served, Debian Chromium driven by Playwright; every test here is marked ``e2e``.

Select a tier with ``-m``: ``pytest -m unit`` (seconds), ``pytest -m "not e2e"``, ``pytest -m e2e``.

Fixtures shared by every module: ``browser`` (one Chromium per module; each test's contexts and pages are
closed after it) and ``serve`` (the app around a container, served by uvicorn on a free port until the
test ends).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.apphelpers import BROWSER_ARGS, Serve, ServerThread
from workstation.app import create_app
from workstation.commands.core import uvicorn_options
from workstation.container import Container

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (never a downloaded one), headless, for the tests of one module."""
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(autouse=True)
def _fresh_browser_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Nothing of one test's tabs (cookies, storage) reaches the next."""
    yield
    if "browser" in request.fixturenames:
        for context in request.getfixturevalue("browser").contexts:
            context.close()


def _serving() -> Iterator[Serve]:
    running: list[ServerThread] = []

    def start(container: Container) -> ServerThread:
        # uvicorn as ``workstation serve`` runs it (the browser's websocket as the product negotiates it)
        server = ServerThread(create_app(container), **uvicorn_options(container.settings)).__enter__()
        server.container = container
        running.append(server)
        return server

    yield start
    for server in reversed(running):
        server.__exit__(None, None, None)


@pytest.fixture
def serve() -> Iterator[Serve]:
    """``serve(container)``: the app around ``container`` on a free port, stopped when the test ends."""
    yield from _serving()


@pytest.fixture(scope="module")
def serve_module() -> Iterator[Serve]:
    """``serve`` for a module-scoped server: stopped when the module's tests are done."""
    yield from _serving()
