"""Helpers for tests that need the app: a migrated container, signed-in clients, a live server thread."""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from billing_adapter.ports import BillingFront
from workstation.auth import create_user
from workstation.bootstrap import bootstrap
from workstation.container import Container, Feature
from workstation.migrate import upgrade
from workstation.records import feature as records_feature
from workstation.settings import Settings

PASSWORD = "secret123"

BROWSER_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def make_container(
    tmp_path: Path,
    db_url: str | None = None,
    billing: BillingFront | None = None,
    telephony: Any = False,
    features: Sequence[Feature] | None = None,
    **settings: Any,
) -> Container:
    """A migrated workstation DB (SQLite in tmp_path unless ``db_url``) and a container around it."""
    if features is None or records_feature in features:
        seed_classifier_model(tmp_path)
    url = db_url or f"sqlite:///{tmp_path / 'ws.db'}"
    upgrade(url)
    s = Settings(data_dir=tmp_path, database_url=url, **settings)
    if billing is None:
        from billing_adapter.memory import MemoryBilling

        billing = MemoryBilling()
    return bootstrap(s, billing=billing, telephony=telephony, features=features)


_model_seed: Path | None = None


def demo_billing_container(tmp_path: Path, subscribers: int, pseudonym_key: str, **kw: Any) -> Container:
    """A container over a generated demo billing in SQLite (``tmp_path/billing.db``: ``subscribers`` as of
    2026-07-01) behind the real adapter and cached front, as the analyst and marketing pages read it."""
    from datetime import date

    from billing_adapter.demo import DemoSpec, generate_sqlite
    from workstation.adapters import make_billing

    billing_db = tmp_path / "billing.db"
    generate_sqlite(billing_db, DemoSpec(subscribers=subscribers, as_of=date(2026, 7, 1)))
    billing = make_billing(Settings(billing_url=f"sqlite:///{billing_db}", data_dir=tmp_path))
    return make_container(tmp_path, billing=billing, pseudonym_key=pseudonym_key, **kw)


def seed_classifier_model(data_dir: Path) -> None:
    """Give a fresh data dir the bootstrap topic model, trained once per test session.

    A container with no model trains one at start-up (seconds of CPU, and a shutdown that waits for the
    training thread); tests that are not about training get the same model, copied.
    """
    global _model_seed
    target = data_dir / "models"
    if target.exists():
        return
    if _model_seed is None:
        import tempfile

        seed_dir = Path(tempfile.mkdtemp(prefix="ws-model-seed-"))
        url = f"sqlite:///{seed_dir / 'seed.db'}"
        upgrade(url)
        from billing_adapter.memory import MemoryBilling

        c = bootstrap(Settings(data_dir=seed_dir, database_url=url), billing=MemoryBilling(), telephony=False)
        c.records.classifier.ensure_model()
        c.db.dispose()
        _model_seed = seed_dir / "models"
    shutil.copytree(_model_seed, target)


def add_user(container: Container, username: str, role: str = "operator", **kw: Any) -> int:
    return create_user(container.db, username, PASSWORD, role, **kw).id


def login(client: Any, username: str, password: str = PASSWORD) -> dict[str, Any]:
    r = client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def sign_in_page(page: Any, base: str, username: str, home: str = "operator.html") -> None:
    """Sign in through the login form and wait for the role's home page."""
    page.goto(base + "/index.html")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-btn")
    page.wait_for_url(f"**/{home}")


def open_card(page: Any, number: str, ready: str) -> None:
    """On the operator's screen: search ``number``, open the subscriber's card, wait for ``ready``.

    The page must have booted first (its websocket online): the search is disabled until its script has
    taken the form over."""
    page.wait_for_selector("#ws-indicator[data-state=online]")
    page.fill("#search", number)
    page.press("#search", "Enter")
    page.wait_for_selector("#card[data-state=found], .match")
    if page.locator(".match").count():
        page.click(".match")
    page.wait_for_selector(ready)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    """Runs the app under uvicorn in a background thread (for browser tests and benchmarks)."""

    def __init__(self, app: Any, port: int | None = None, **options: Any):
        """``options``: more uvicorn settings (``workstation.commands.core.uvicorn_options``: as served)."""
        import uvicorn

        self.port = port or free_port()
        settings = {"host": "127.0.0.1", "port": self.port, "log_level": "warning", "lifespan": "on"}
        self.config = uvicorn.Config(app, **{**settings, **options})
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.loop: asyncio.AbstractEventLoop | None = None

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def call(self, coro: Any, timeout: float = 10) -> Any:
        """Run a coroutine on the server's event loop (e.g. inject a call event) and wait for it."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def session_cookie(self, username: str) -> str:
        """Sign ``username`` in over HTTP: the ``Cookie`` header its tabs send."""
        import httpx

        async with httpx.AsyncClient(base_url=self.url) as client:
            r = await client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
            r.raise_for_status()
        return f"ws_session={r.cookies['ws_session']}"

    async def open_tab(self, cookie: str) -> dict[str, Any] | int:
        """A tab's first frame, or the HTTP status its handshake was refused with (a websocket the server
        closes before accepting it is an HTTP 403 to the browser)."""
        import json

        import websockets
        from websockets.exceptions import InvalidStatus

        try:
            async with websockets.connect(
                f"ws://127.0.0.1:{self.port}/ws", additional_headers={"Cookie": cookie}
            ) as ws:
                return json.loads(await asyncio.wait_for(ws.recv(), 10))  # type: ignore[no-any-return]
        except InvalidStatus as exc:
            return exc.response.status_code


# the e2e tier's ``serve`` fixture (tests/e2e/conftest.py): the app around a container, served until the test ends
Serve = Callable[[Container], ServerThread]
