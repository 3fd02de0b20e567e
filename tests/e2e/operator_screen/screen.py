"""Driving the operator's screen: a call through the call service with the events telephony hands it (queued,
offered, answered, ended), so each test knows exactly where the call is without waiting on a trace's timing;
the operator's page signed in; a card opened by number."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Browser, Page

from telephony.events import CallAnswered, CallEnded, CallOffered, CallQueued
from tests.apphelpers import sign_in_page

AGENT = "PJSIP/1001"
CALLER = "+79010167996"


def call_event(srv: Any, event: Any) -> None:
    srv.call(srv.container.calls.handle(event))


def ring_and_answer(srv: Any, call_id: str = "c-1", caller: str = CALLER) -> None:
    now = time.time()
    call_event(srv, CallQueued(call_id=call_id, at=now - 5, caller=caller, queue="support"))
    call_event(
        srv,
        CallOffered(
            call_id=call_id, at=now - 3, caller=caller, agent=AGENT, extension="1001", queue="support"
        ),
    )
    call_event(
        srv,
        CallAnswered(
            call_id=call_id, at=now - 1, caller=caller, agent=AGENT, extension="1001", queue="support"
        ),
    )


def hang_up(srv: Any, call_id: str = "c-1") -> None:
    call_event(
        srv, CallEnded(call_id=call_id, at=time.time(), agent=AGENT, extension="1001", hangup_by="caller")
    )


def operator_page(browser: Browser, srv: Any, width: int = 1366, height: int = 768, **ctx: Any) -> Page:
    page = browser.new_context(locale="ru-RU", viewport={"width": width, "height": height}, **ctx).new_page()
    sign_in_page(page, srv.url, "op1")
    page.wait_for_selector("#ws-indicator[data-state=online]")
    return page


def inside_viewport(page: Page, selector: str) -> bool:
    """The element is rendered and its whole box lies within the window (nothing to scroll to)."""
    return bool(
        page.evaluate(
            """(sel) => { const el = document.querySelector(sel); if (!el) return false;
             const r = el.getBoundingClientRect();
             return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0
               && r.bottom <= window.innerHeight && r.right <= window.innerWidth; }""",
            selector,
        )
    )


def open_card(page: Page, number: str = "79010167996") -> None:
    page.fill("#search", number)
    page.press("#search", "Enter")
    page.wait_for_selector("#card[data-state=found] .name")
    page.wait_for_selector("#panel-requests #rec-note")
