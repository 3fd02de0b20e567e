"""The analyst's privacy report reads as an analyst reads it (issue 12, point 10): the manifest's technical rows
("*_per_month", "(rows)", attribute codes, "Key k1") are named for what they are, and an export whose ARPU
band has one value in some class (l = 1) carries a warning — one with l of 2 or more does not."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.apphelpers import Serve, add_user, demo_billing_container, sign_in_page
from workstation.campaigns.models import SegmentExport

KEY = "e2e-pseudonym-key-0123456789abcdef0123"


@pytest.fixture
def server(serve: Serve, tmp_path: Path) -> Iterator[Any]:
    container = demo_billing_container(tmp_path, 800, KEY)
    add_user(container, "ana", role="analyst", display_name="Analyst")
    return serve(container)


def test_privacy_report_names_its_rows_and_warns_when_l_is_one(browser: Browser, server: Any) -> None:
    page = browser.new_context(locale="ru-RU", viewport={"width": 1366, "height": 900}).new_page()
    sign_in_page(page, server.url, "ana", "analyst.html")
    # the page fills its form after sign-in: wait for it before reading it
    expect(page.locator("#form")).to_contain_text("по (включительно)")  # the period's end, not "По месяц"
    form = page.inner_text("#form")
    assert "месяц" not in form.lower()
    page.fill("#seg-from", "2026-01")
    page.fill("#seg-to", "2026-06")
    page.fill("#seg-reason", "сегментация Q2")
    page.click("#seg-start")
    page.wait_for_selector("#privacy-kpis", timeout=120_000)
    # the rows of the method table and the figures, as the analyst sees them
    rows = page.locator("#methods tr td:first-child").all_inner_texts()
    assert "Средние за месяц (голос, SMS, интернет, начисления)" in rows
    assert "Строки выгрузки" in rows
    technical = [r for r in rows if re.search(r"[a-z]+_[a-z]+|\*|\((rows|removed|decomposition)\)", r)]
    assert technical == [], "; ".join(rows)
    kpis = page.inner_text("#privacy-kpis")
    assert "Версия ключа псевдонимизации" in kpis
    assert not re.search(r"\bКлюч\b", kpis)
    # l is enforced at 2 for a new export: no warning
    assert "l-разнообразие" in kpis
    assert page.locator("#l-warning").count() == 0
    page.click("button[data-lang=en]")
    page.wait_for_selector("#privacy-kpis:has-text('Pseudonym key version')")
    assert "Monthly means (voice, SMS, data, charges)" in page.locator("#methods").inner_text()
    page.click("button[data-lang=ru]")
    page.wait_for_selector("#privacy-kpis:has-text('Версия ключа псевдонимизации')")

    # an older release with l = 1 (the same report with one ARPU band in some class) is flagged
    with server.container.db.session() as s:
        done = s.query(SegmentExport).filter_by(state="done").one()
        summary = copy.deepcopy(done.summary)
        summary["privacy"]["l_diversity_arpu_band"] = 1
        s.add(
            SegmentExport(
                id="exp-l1",
                state="done",
                month_from="2025-07",
                month_to="2025-12",
                k=done.k,
                attributes=done.attributes,
                key_id=done.key_id,
                summary=summary,
                rows=done.rows,
            )
        )
    page.reload()
    page.click("#exports tr[data-id='exp-l1']")
    page.wait_for_selector("#l-warning")
    assert "l = 1" in page.inner_text("#l-warning")
    assert "интервал ARPU" in page.inner_text("#l-warning")
