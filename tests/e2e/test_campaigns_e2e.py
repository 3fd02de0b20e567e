"""The analyst's export page, the marketing campaign page and the offer on the operator's card, in Chromium
against the served app with the demo billing (SQLite through the real adapter)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import select

from tests.apphelpers import Serve, add_user, demo_billing_container, open_card, sign_in_page
from workstation.campaigns.models import CampaignTarget

KEY = "e2e-pseudonym-key-0123456789abcdef0123"


@pytest.fixture
def server(serve: Serve, tmp_path: Path) -> Iterator[Any]:
    container = demo_billing_container(tmp_path, 1200, KEY)
    add_user(container, "ana", role="analyst", display_name="Analyst")
    add_user(container, "mkt", role="marketing", display_name="Marketing")
    add_user(container, "op1", display_name="Operator One")
    srv = serve(container)
    srv.billing_db = tmp_path / "billing.db"  # where demo_billing_container made it
    return srv


def sign_in_fresh(page: Page, base: str, username: str, home: str) -> None:
    """Sign in as another user in the same tab (the previous session's cookie dropped first)."""
    page.context.clear_cookies()
    sign_in_page(page, base, username, home)


def test_export_then_campaign_then_offer_on_the_card(browser: Browser, server: Any, tmp_path: Path) -> None:
    with sqlite3.connect(server.billing_db) as conn:
        surnames = [r[0] for r in conn.execute("SELECT last_name FROM subscribers LIMIT 300")]
    page = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 1400}).new_page()

    sign_in_fresh(page, server.url, "ana", "analyst.html")
    page.fill("#seg-from", "2026-01")
    page.fill("#seg-to", "2026-06")
    page.fill("#seg-reason", "сегментация Q2")
    page.click("#seg-start")
    page.wait_for_selector("#privacy-kpis", timeout=120_000)
    kpis = page.inner_text("#privacy-kpis")
    assert "k достигнуто" in kpis
    assert "l-разнообразие" in kpis
    assert "Риск повторной идентификации" in kpis
    assert "20.0%" in kpis
    assert page.locator("svg.chart-sizes rect").count() >= 2
    assert page.locator("#methods tr").count() > 5
    shown = page.inner_text("body")
    assert not [s for s in surnames if s in shown]
    page.screenshot(path=str(tmp_path / "analyst.png"), full_page=True)
    # an export of an overlapping, different period would break k joined with the first: refused, in Russian
    page.fill("#seg-from", "2026-03")
    page.click("#seg-start")
    page.wait_for_selector(".toast.error", timeout=120_000)
    assert "Выгрузка отклонена" in page.inner_text(".toast.error")

    sign_in_fresh(page, server.url, "mkt", "marketing.html")
    page.check("input.mkt-seg[value='tier:high']")
    page.fill("#mkt-name", "Безлимит для ценных")
    page.fill("#mkt-offer", "Скидка 20% на Безлимит на 3 месяца")
    page.fill("#mkt-starts", "2026-01-01")
    page.click("#mkt-launch")
    page.wait_for_selector("#campaigns tr[data-id]")
    assert int(page.inner_text("#campaigns tr[data-id] td.targets")) > 0

    with server.container.db.session() as s:
        target = s.scalars(select(CampaignTarget)).first().subscriber_id
    with sqlite3.connect(server.billing_db) as conn:
        (msisdn,) = conn.execute(
            "SELECT msisdn FROM msisdns WHERE account_id = ? AND is_primary = 1", (int(target),)
        ).fetchone()
    sign_in_fresh(page, server.url, "op1", "operator.html")
    open_card(page, str(msisdn), "#panel-offers .offer")
    assert "Скидка 20% на Безлимит" in page.inner_text("#panel-offers")
    page.click("#panel-offers button[data-outcome=accepted]")
    page.wait_for_selector("#panel-offers .offer-status:has-text('Принял')")
    page.screenshot(path=str(tmp_path / "operator.png"), full_page=True)

    sign_in_fresh(page, server.url, "mkt", "marketing.html")
    page.wait_for_selector("#campaigns tr[data-id]")
    assert page.inner_text("#campaigns tr[data-id] td.accepted") == "1"
    assert "100%" in page.inner_text("#campaigns tr[data-id] td.conversion")
