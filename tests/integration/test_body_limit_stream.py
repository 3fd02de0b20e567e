"""A client that has not signed in cannot grow the server's memory with big bodies, chunked or not.

The server runs in a process of its own; its resident memory is sampled while three 300 MB chunked
bodies (no Content-Length) are posted to the sign-in route in parallel.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.own_services import free_port
from tests.served_app import PeakRss, ServedApp

CHUNK = b"x" * (1024 * 1024)


def _chunked(total_mb: int, sent: list[int]) -> Iterator[bytes]:
    for _ in range(total_mb):
        sent[0] += len(CHUNK)
        yield CHUNK


@pytest.mark.timeout(180)
def test_three_300_mb_chunked_sign_ins_do_not_raise_server_memory_by_50_mb(tmp_path: Path) -> None:
    with ServedApp(tmp_path, free_port()) as app:
        rss = PeakRss(app.pid)
        results: list[tuple[int | None, int]] = []

        def post() -> None:
            sent = [0]
            status: int | None = None
            try:
                r = httpx.post(
                    app.url + "/api/auth/login",
                    content=_chunked(300, sent),
                    headers={"Content-Type": "application/json"},
                    timeout=60,
                )
                status = r.status_code
                assert r.json()["error_id"] == "too_large"
            except httpx.HTTPError:
                status = None  # the server closed the connection after its 413
            results.append((status, sent[0]))

        posts = [threading.Thread(target=post) for _ in range(3)]
        with rss:
            for t in posts:
                t.start()
            for t in posts:
                t.join()
        growth_mb = rss.growth_mb
        assert growth_mb < 50, f"server memory grew by {growth_mb:.0f} MB"
        assert all(status in (413, None) for status, _ in results), results
        # the server stopped reading long before the end of each body
        assert all(sent < 300 * 2**20 for _, sent in results), results
        # and a normal sign-in still works afterwards
        ok = httpx.post(app.url + "/api/auth/login", json={"username": "op1", "password": "secret123"})
        assert ok.status_code == 200
