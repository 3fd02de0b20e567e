"""A crafted id cannot open the billing circuit breaker for the whole floor (over real HTTP).

``"²".isdigit()`` is true and ``int("²")`` raises: three such requests used to count as billing
failures and make every card pop "billing unavailable". Ids are now checked at the edge (ASCII digits),
and only failures of billing itself (link, timeout, driver) count towards the breaker.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest

from billing_adapter import demo
from tests.apphelpers import PASSWORD, ServerThread, add_user, make_container
from workstation.adapters import make_billing
from workstation.app import create_app
from workstation.settings import Settings


@pytest.mark.parametrize("crafted", ["%C2%B2", "%D9%A3", "1" * 40, "-1", "1e3"])
def test_crafted_ids_get_a_4xx_and_leave_the_breaker_closed(tmp_path: Path, crafted: str) -> None:
    path = tmp_path / "billing.db"
    demo.generate_sqlite(path, demo.DemoSpec(subscribers=50, seed=5))
    url = f"sqlite:///{path}"
    billing = make_billing(Settings(data_dir=tmp_path, billing_url=url))
    container = make_container(tmp_path, billing=billing, billing_url=url, features=[])
    add_user(container, "op1", interface="PJSIP/1001", extension="1001")
    msisdn = "+" + str(demo.msisdn_of(np.array([7]))[0])
    with ServerThread(create_app(container)) as server, httpx.Client(base_url=server.url) as client:
        assert (
            client.post("/api/auth/login", json={"username": "op1", "password": PASSWORD}).status_code == 200
        )
        for _ in range(6):
            r = client.get(f"/api/subscribers/{crafted}/card", params={"reason": "callback"})
            assert r.status_code == 422, r.text
            assert r.json()["error_id"] == "invalid_input", r.text
        assert billing.breaker.state == "closed"
        # and below the edge, too: the billing adapter treats such an id as unknown, not as an outage
        for _ in range(4):
            assert server.call(billing.get_card("²")).state == "unknown"
        assert billing.breaker.state == "closed"
        lookup = server.call(billing.lookup_caller(msisdn))
        assert lookup.card is not None
        card = client.get(f"/api/subscribers/{lookup.card.subscriber_id}/card", params={"reason": "callback"})
        assert card.status_code == 200
        assert card.json()["card"]["freshness"]["billing_state"] == "ok"
