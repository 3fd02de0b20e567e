"""The app of the request-record tests: its container, a signed-in test client, two operators (and a
supervisor), and ended calls to record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.apphelpers import login
from workstation.bootstrap import Container
from workstation.models import Call


@dataclass
class Env:
    container: Container
    client: TestClient
    op1: int
    op2: int

    def as_user(self, username: str) -> TestClient:
        login(self.client, username)
        return self.client


def add_call(env: Env, call_id: str, operator_id: int, subscriber_id: str = "1") -> None:
    t0 = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
    with env.container.db.session() as s:
        s.add(
            Call(
                id=call_id,
                caller="79161234567",
                operator_id=operator_id,
                subscriber_id=subscriber_id,
                state="ended",
                queued_at=t0,
                offered_at=t0 + timedelta(seconds=12),
                answered_at=t0 + timedelta(seconds=15),
                ended_at=t0 + timedelta(seconds=195),
            )
        )
