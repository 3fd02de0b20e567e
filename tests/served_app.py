"""The workstation served by uvicorn in a process of its own, for tests and benchmarks that measure the
server (its memory, its latency) apart from the client.

``python -m tests.served_app DATA_DIR PORT [DB_URL]``: a migrated DB (SQLite in DATA_DIR unless
DB_URL), the in-memory billing with one subscriber, users ``op1`` (operator, PJSIP/1001) and ``sup``
(supervisor), password ``secret123``; prints ``ready`` once serving.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parents[1]


def main() -> None:
    import uvicorn

    from billing_adapter.memory import MemoryBilling, make_card
    from tests.apphelpers import add_user, make_container
    from workstation.app import create_app
    from workstation.commands.core import uvicorn_options

    data_dir, port = Path(sys.argv[1]), int(sys.argv[2])
    db_url = sys.argv[3] if len(sys.argv) > 3 else None
    billing = MemoryBilling()
    billing.add(make_card("1", "79161234567"))
    container = make_container(data_dir, db_url=db_url, billing=billing, features=[])
    add_user(container, "op1", interface="PJSIP/1001", extension="1001")
    add_user(container, "sup", role="supervisor")
    options = uvicorn_options(container.settings)
    config = uvicorn.Config(
        create_app(container), host="127.0.0.1", port=port, log_level="warning", **options
    )
    server = uvicorn.Server(config)
    print("ready", file=sys.stderr, flush=True)
    server.run()


class ServedApp:
    """Start ``main`` in a subprocess; ``pid`` for psutil, ``url`` for clients."""

    def __init__(self, data_dir: Path, port: int, db_url: str | None = None):
        self.data_dir, self.port, self.db_url = data_dir, port, db_url
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> ServedApp:
        env = {**os.environ, "PYTHONPATH": str(HERE)}
        args = [sys.executable, "-m", "tests.served_app", str(self.data_dir), str(self.port)]
        self.proc = subprocess.Popen(args + ([self.db_url] if self.db_url else []), env=env, cwd=HERE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("served app exited")
            time.sleep(0.1)
        raise RuntimeError("served app did not start")

    def __exit__(self, *exc: Any) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


if __name__ == "__main__":
    main()


class PeakRss:
    """The highest resident memory of process ``pid`` while the ``with`` block runs, sampled every
    ``every_s``; ``baseline`` is the memory when it was made, ``growth_mb`` the peak above it."""

    def __init__(self, pid: int, every_s: float = 0.02) -> None:
        import psutil

        self._proc = psutil.Process(pid)
        self.every_s = every_s
        self.baseline = self.peak = int(self._proc.memory_info().rss)
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, int(self._proc.memory_info().rss))
            self._stop.wait(self.every_s)

    def __enter__(self) -> PeakRss:
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sampler.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / 2**20
