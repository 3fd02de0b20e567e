"""The served app of the operator-screen tests: a blocked subscriber with a negative balance, two namesakes, an
operator, a supervisor and an admin, the knowledge base, an active campaign offer and an open ticket."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from billing_adapter.memory import MemoryBilling, make_card
from knowledge_base.seed import seed
from tests.apphelpers import (
    PASSWORD,
    Serve,
    add_user,
    make_container,
)
from tests.e2e.operator_screen.screen import AGENT
from tests.support.models import install_pretrained
from workstation.campaigns.models import Campaign, CampaignTarget, SegmentExport


@pytest.fixture
def server(serve: Serve, tmp_path: Path) -> Iterator[Any]:
    install_pretrained(tmp_path / "models")
    billing = MemoryBilling()
    billing.add(
        make_card(
            "1",
            "79010167996",
            name="Смирнова Анна Петровна",
            first_name="Анна",
            balance=-458.64,
            status="blocked",
            region="Москва",
        )
    )
    billing.add(make_card("2", "79031234567", name="Петров Пётр Петрович", region="Тверская область"))
    billing.add(make_card("3", "79037654321", name="Петров Пётр Петрович", region="Казань"))
    container = make_container(tmp_path, billing=billing)
    container.records.classifier.registry.refresh()
    add_user(container, "op1", display_name="Ольга", interface=AGENT, extension="1001")
    add_user(container, "sup", role="supervisor", display_name="Светлана")
    add_user(container, "adm", role="admin", display_name="Админ")
    seed(container.knowledge_base.kb)
    _offer(container, "1")
    srv = serve(container)
    srv.tmp_path = tmp_path
    with httpx.Client(base_url=srv.url) as api:
        api.post("/api/auth/login", json={"username": "op1", "password": PASSWORD})
        r = api.post(
            "/api/tickets",
            json={
                "subscriber_id": "1",
                "topic": "mobile_data",
                "note": "Не работает интернет после смены тарифа",
            },
        )
        assert r.status_code == 200, r.text
    return srv


def _offer(container: Any, subscriber_id: str) -> None:
    today = date.today()
    with container.db.session() as s:
        labels = {"cluster:0": "roaming-leaning, negative balance", "cluster:1": "subscription-leaning #2"}
        counts = {"tier:high": 12, "cluster:0": 7, "cluster:1": 5}
        s.add(
            SegmentExport(
                id="exp-1",
                state="done",
                month_from="2026-01",
                month_to="2026-06",
                path=None,
                rows=24,
                summary={"segments": {"labels": labels, "counts": counts}},
            )
        )
        s.flush()
        c = Campaign(
            name="Безлимит для ценных",
            offer_text="Скидка 20% на Безлимит на 3 месяца",
            export_id="exp-1",
            segments=["tier:high"],
            starts_on=today - timedelta(days=1),
            ends_on=today + timedelta(days=30),
            state="active",
            targets_count=1,
        )
        s.add(c)
        s.flush()
        s.add(CampaignTarget(campaign_id=c.id, subscriber_id=subscriber_id))
