"""The first screen at 1024×768, and at 1366×768 again in after-call work (issue 12, point 1): during a call and in the after-call work that follows,
the banner with "Finish after-call work", the card's top band, the search and the request record with its
suggestions and its finish button are all in the window — for a returning caller whose previous requests
make the record's column longer than the window, with no scrolling of the page or of a column."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.apphelpers import PASSWORD
from tests.e2e.operator_screen.screen import hang_up, inside_viewport, operator_page, ring_and_answer

# the element found at the centre of the box is the element itself (nothing sticky lies over it)
ON_TOP = """(sel) => { const el = document.querySelector(sel); const r = el.getBoundingClientRect();
  const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return !!top && (top === el || el.contains(top)); }"""
SCROLLED = (
    "() => [...document.querySelectorAll('body *')].filter((el) => el.scrollTop > 0).map((el) => el.id)"
)


def previous_requests(srv: Any, n: int) -> None:
    with httpx.Client(base_url=srv.url) as api:
        api.post("/api/auth/login", json={"username": "op1", "password": PASSWORD})
        for i in range(n):
            r = api.post(
                "/api/records",
                json={
                    "subscriber_id": "1",
                    "note": f"Абонент спрашивал про тариф, обращение {i + 1}",
                    "topics": ["tariff_change"],
                    "outcome": "resolved",
                    "finish": True,
                    "reason": "обращение по почте",
                },
            )
            assert r.status_code == 200, r.text


def assert_in_reach(page: Page, selectors: tuple[str, ...]) -> None:
    for sel in selectors:
        assert inside_viewport(page, sel), f"{sel} is not inside the window"
        assert page.evaluate(ON_TOP, sel), f"{sel} is covered"
    assert page.evaluate(
        "() => document.scrollingElement.scrollHeight <= window.innerHeight"
    )  # no page scroll
    assert page.evaluate(SCROLLED) == []  # nothing had to be scrolled to get there
    # the search is there to type in, not squeezed to a sliver
    assert page.evaluate("() => document.querySelector('#search').getBoundingClientRect().width") >= 200


@pytest.mark.parametrize("width", [1024, 1366])
def test_first_screen_keeps_the_call_the_record_and_finishing_in_view(
    browser: Browser, server: Any, width: int
) -> None:
    previous_requests(server, 4)
    page = operator_page(browser, server, width=width, height=768)
    ring_and_answer(server)
    page.wait_for_selector("#call-banner[data-state=connected]")
    page.wait_for_selector("#card[data-state=found] .name")
    page.wait_for_selector("#rec-history li")
    page.fill("#rec-note", "не работает мобильный интернет")
    page.locator("#rec-suggestions button.rec-sug").first.wait_for()
    page.keyboard.press("Alt+1")
    page.wait_for_selector("#rec-chosen [data-code]")
    page.check("input[name=rec-outcome][value=callback]")  # the subscriber asks to be called back
    page.wait_for_selector("#rec-callback-at")
    # the record's column holds more than the window: the finish button stays in it all the same
    assert page.evaluate(
        "() => { const c = document.querySelector('#col-record'); return c.scrollHeight > c.clientHeight; }"
    )
    call = ("#call-banner", "#card .band", "#search", "#rec-note", "#rec-suggestions", "#rec-finish")
    assert_in_reach(page, call)
    hang_up(server)
    page.wait_for_selector("#call-banner[data-state=wrap_up] #finish-wrapup")
    page.wait_for_selector("#presence-state[data-state=wrap_up] #acw-timer")
    assert_in_reach(page, (*call, "#finish-wrapup", "#acw-timer"))
    page.click("#rec-finish")  # finishing the record (a callback planned) ends the after-call work
    page.wait_for_selector("#call-banner[data-state=idle]")
    page.wait_for_selector("#cb-list li[data-callback]")
