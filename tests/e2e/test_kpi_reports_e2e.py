"""The reports page in Chromium: today's calls by hour per queue, the chart, a count drilled down to its
calls, the card of one of them, the CSV link; per operator with first-contact resolution."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from billing_adapter.memory import MemoryBilling, make_card
from telephony.events import CallAbandoned, CallAnswered, CallEnded, CallOffered, CallQueued
from tests.apphelpers import Serve, add_user, make_container, sign_in_page
from workstation.kpis import feature as kpis_feature

pytestmark = pytest.mark.e2e

CALLER = "79161234567"


@pytest.fixture
def server(serve: Serve, tmp_path: Path) -> Any:
    billing = MemoryBilling()
    billing.add(make_card("101", CALLER))
    container = make_container(tmp_path, billing=billing, features=(kpis_feature,), kpi_timezone="UTC")
    op_id = add_user(container, "op1", display_name="Operator One", interface="PJSIP/1001", extension="1001")
    add_user(container, "boss", role="supervisor", display_name="Floor Boss")
    srv = serve(container)
    srv.op_id = op_id
    return srv


def scenario_start(now: float) -> float:
    """Five minutes ago, moved into the current hour when it has room for the calls (66 s): the calls then fall
    in one hourly bucket whatever the time of day (in an hour's first 66 s: the previous hour, whole)."""
    hour = now - now % 3600  # the report's zone is UTC
    return max(now - 300, hour + 1) if now - hour >= 66 else now - 300


def play(server: Any) -> None:
    calls = server.container.calls
    t0 = scenario_start(time.time())

    async def go() -> None:
        for ev in (
            CallQueued("R1", t0, caller="+" + CALLER, queue="support"),
            CallOffered("R1", t0 + 3, caller="+" + CALLER, agent="PJSIP/1001", extension="1001"),
            CallAnswered(
                "R1", t0 + 4, caller="+" + CALLER, agent="PJSIP/1001", extension="1001", queue="support"
            ),
            CallEnded("R1", t0 + 64, agent="PJSIP/1001", extension="1001"),
            CallQueued("R2", t0 + 10, caller="+79030000000", queue="support"),
            CallAbandoned("R2", t0 + 40, caller="+79030000000", queue="support"),
        ):
            await calls.handle(ev)
        await calls.writer.flush()

    server.call(go())


def test_report_table_chart_drill_down_card_and_csv(browser: Browser, server: Any) -> None:
    play(server)
    page = browser.new_context(locale="ru-RU").new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in_page(page, server.url, "boss", home="supervisor.html")
    page.goto(server.url + "/supervisor-kpis.html")
    row = page.locator("#kr-table tr[data-key=support]")
    expect(row).to_have_count(1, timeout=20000)
    assert page.locator("#kr-chart svg rect").count() == 3  # one bucket: offered / answered / abandoned
    expect(row.locator("button[data-figure=offered]")).to_have_text("2")
    row.locator("button[data-figure=abandoned]").click()
    expect(page.locator("#kr-calls tr[data-call=R2]")).to_have_count(1)
    row.locator("button[data-figure=answered]").click()
    expect(page.locator("#kr-calls tr[data-call=R1]")).to_have_count(1)
    assert CALLER not in page.inner_text("#kr-drill")  # no numbers in the list
    page.locator("#kr-calls tr[data-call=R1] button").click()
    expect(page.locator("#kr-card h3")).to_have_count(1)  # the card, its view audited by the card API
    page.locator("#kr-card button").click()
    assert "/api/kpis/report.csv?" in (page.get_attribute("#kr-csv", "href") or "")
    page.select_option("select[name=group]", "operator")
    page.click("#kr-show")
    # the queue's row is on screen until the new answer arrives: wait for the operator's row itself
    expect(page.locator("#kr-table")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#kr-table")).to_contain_text("Operator One")
    # the operator's rows only: one per hour on the floor (the after-call work left open runs on to now, so
    # in an hour's first minute the previous hour has a row too)
    expect(page.locator(f"#kr-table tr[data-key='{server.op_id}']").first).to_be_visible()
    expect(page.locator(f"#kr-table tr[data-key]:not([data-key='{server.op_id}'])")).to_have_count(0)
    expect(page.locator("#kr-table tr[data-key=support]")).to_have_count(0)
    assert errors == []
