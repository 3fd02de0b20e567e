"""README's screenshots, made from the demo (embedded defaults: SQLite, in-process bus, generated billing, the
simulated PBX) in Debian's Chromium through Playwright:

* ``docs/screen-operator.png``: the operator's screen during a simulated call (Russian), a request being typed;
* ``docs/screen-floor.png``: the supervisor's floor (wallboard and operators) with that call live;
* ``docs/screen-analyst.png``: the analyst's privacy report of a segmentation export.

    python scripts/screenshots.py [--out docs] [--subscribers 2000]

The demo runs in a temporary data directory (nothing of ``var/`` is touched), with no generated calls of its
own: the script plays one recorded call on the simulated PBX, slowed down so the screens are taken while it
is live.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VIEWPORT = {"width": 1366, "height": 768}
TIMEOUT_MS = 120_000


def sign_in(page: Any, base: str, username: str, home: str, password: str) -> None:
    page.goto(base + "/index.html")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-btn")
    page.wait_for_url(f"**/{home}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    ap.add_argument("--subscribers", type=int, default=2000)
    args = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="ws-screens-"))
    os.environ["WORKSTATION_DATA_DIR"] = str(data)
    os.environ["WORKSTATION_SIM_CALLS_PER_MIN"] = "0"  # the one call below, nothing else rings

    import numpy as np
    from playwright.sync_api import sync_playwright

    from billing_adapter import demo
    from tests.apphelpers import BROWSER_ARGS, ServerThread
    from workstation.app import create_app
    from workstation.commands.core import DEMO_PASSWORD, DEMO_USERS, prepare_demo

    container = prepare_demo(args.subscribers)
    op = next(u for u in DEMO_USERS if u["username"] == "op1")
    caller = "+" + str(demo.msisdn_of(np.array([17]))[0])
    args.out.mkdir(parents=True, exist_ok=True)
    with ServerThread(create_app(container)) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        ctx: dict[str, Any] = {"locale": "ru-RU", "timezone_id": "Europe/Moscow", "viewport": VIEWPORT}
        page = browser.new_context(**ctx).new_page()
        sign_in(page, server.url, "op1", "operator.html", DEMO_PASSWORD)
        page.wait_for_selector("#ws-indicator[data-state=online]")
        sup = browser.new_context(**ctx).new_page()
        sign_in(sup, server.url, "sup", "supervisor.html", DEMO_PASSWORD)
        sup.wait_for_selector("#wb-operators")
        sim = container.telephony.simulator  # type: ignore[union-attr]
        # the recorded call (~2 s ringing, ~3 s talk) played 7 times slower: ~20 s on the line
        assert server.loop is not None
        call = asyncio.run_coroutine_threadsafe(
            sim.play("answered", caller, agents=[(op["interface"], op["display_name"])], speed=0.15),
            server.loop,
        )
        page.wait_for_selector("#call-banner[data-state=connected]", timeout=TIMEOUT_MS)
        page.wait_for_selector("#card[data-state=found] .name")
        page.fill("#rec-note", "не работает мобильный интернет после смены тарифа")
        page.locator("#rec-suggestions button.rec-sug").first.wait_for()
        page.keyboard.press("Alt+1")
        page.wait_for_selector("#kb-script")
        page.screenshot(path=str(args.out / "screen-operator.png"))
        sup.wait_for_selector("#wb-operators tr[data-state=on_call]")
        sup.screenshot(path=str(args.out / "screen-floor.png"))
        call.result(TIMEOUT_MS / 1000)

        ana = browser.new_context(**ctx).new_page()
        sign_in(ana, server.url, "analyst", "analyst.html", DEMO_PASSWORD)
        ana.fill("#seg-reason", "сегментация для кампании")
        ana.click("#seg-start")
        ana.wait_for_selector("#privacy-kpis", timeout=TIMEOUT_MS)
        ana.screenshot(path=str(args.out / "screen-analyst.png"))
        browser.close()
    for name in ("screen-operator.png", "screen-floor.png", "screen-analyst.png"):
        print(f"{args.out / name}: {(args.out / name).stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
