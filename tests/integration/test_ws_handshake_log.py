"""uvicorn's lines for every tab (its handshake, with the browser's address; ``connection open`` and
``closed``) stay out of the log: a floor reconnecting wrote thousands of them on the event loop. Its other
lines stay in. Served by real uvicorn at its ``info`` level, over real TCP."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tests.apphelpers import ServerThread, add_user, make_container
from workstation.app import create_app
from workstation.commands.core import uvicorn_options


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def test_a_tab_opening_leaves_no_handshake_line_and_start_up_is_still_logged(tmp_path: Path) -> None:
    container = make_container(tmp_path, features=[])
    add_user(container, "op1", interface="PJSIP/1001", extension="1001")
    kept = Kept()
    uvicorn_log = logging.getLogger("uvicorn.error")
    options: dict[str, Any] = {**uvicorn_options(container.settings), "log_level": "info"}
    server = ServerThread(create_app(container), **options)
    uvicorn_log.addHandler(kept)  # after uvicorn set up its loggers (it replaces their handlers)
    try:
        with server:
            first = await server.open_tab(await server.session_cookie("op1"))
            assert isinstance(first, dict)
            assert first["type"] == "hello"
    finally:
        uvicorn_log.removeHandler(kept)
        container.db.dispose()
    assert any("startup complete" in line for line in kept.lines), kept.lines  # uvicorn's own lines stay
    per_tab = [line for line in kept.lines if "WebSocket" in line or line.startswith("connection ")]
    assert not per_tab, kept.lines
