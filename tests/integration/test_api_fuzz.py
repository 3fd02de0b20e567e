"""schemathesis against the OpenAPI schema of the whole API, bounded: whatever the input, the server
answers with a 4xx carrying an ``error_id``, never a 500 (ids beyond 64 bits, ``1e22`` for an integer,
empty ids, year 1, NUL characters on PostgreSQL were 500s).

The app is served over real HTTP on a PostgreSQL database of its own, signed in as an administrator (who
passes every role check, so the fuzzing reaches the services). Sign-out and password change are left
out: they would end the fuzzer's own session.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.apphelpers import PASSWORD, ServerThread, add_user, make_container
from tests.conftest import drop_pg_database, make_pg_database
from workstation.app import create_app

SKIPPED = ("/api/auth/logout", "/api/auth/password")
EXAMPLES = 6  # per operation and mode: the whole API in about a minute


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, pg_server_url: str) -> Iterator[tuple[Any, Any]]:
    db_url = make_pg_database("fuzz")
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    container = make_container(tmp, db_url=db_url, pseudonym_key="fuzz-pseudonym-key-0123456789abcdef")
    add_user(container, "root", role="admin", interface="PJSIP/1001", extension="1001")
    app = create_app(container)
    with ServerThread(app) as server:
        session = requests.Session()
        r = session.post(server.url + "/api/auth/login", json={"username": "root", "password": PASSWORD})
        r.raise_for_status()
        yield app, (server, session)
    container.db.dispose()
    drop_pg_database(db_url)


def _operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_dict(app.openapi())
    ops = [r.ok() for r in schema.get_all_operations()]
    return [op for op in ops if op.path not in SKIPPED]


def test_no_input_gets_a_server_error(served: Any) -> None:
    app, (server, session) = served
    failures: list[tuple[str, str, int, str]] = []
    operations = _operations(app)
    assert len(operations) > 40  # the whole API, not a corner of it

    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=op.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
            )
            def run(case: Any) -> None:
                try:
                    r = case.call(base_url=server.url, session=session, timeout=30)
                except (AttributeError, TypeError, ValueError, requests.exceptions.InvalidHeader):
                    return  # a case the HTTP client itself cannot send (a header that is a list…)
                ctype = r.headers.get("content-type") or [""]
                ctype = ctype[0] if isinstance(ctype, list) else ctype
                json_error = r.status_code >= 400 and ctype.startswith("application/json")
                if r.status_code >= 500 or (json_error and "error_id" not in r.json()):
                    failures.append((case.method, case.formatted_path, r.status_code, r.text[:200]))

            try:
                run()
            except Unsatisfiable:
                continue  # no invalid input exists for an operation without parameters
    assert not failures, failures[:20]


FOUND_500S = [
    ("GET", f"/api/tickets/{2**70}", None, None),
    ("GET", f"/api/records?subscriber_id=1&limit={2**70}", None, None),
    ("POST", "/api/records", {"note": "x", "topics": ["roaming"], "model_version": 1e22}, None),
    ("POST", "/api/records", {"note": "x", "topics": ["roaming"], "call_id": ""}, None),
    ("POST", "/api/tickets/1/actions/take", {"version": 2**70}, None),
    ("GET", "/api/records/stats", None, {"from": "0001-01-01T00:00:00+14:00", "to": "0001-01-02T00:00:00"}),
    (
        "GET",
        "/api/kpis/report",
        None,
        {"from": "0001-01-01T00:00:00+14:00", "to": "0001-01-02T00:00:00+00:00"},
    ),
    ("POST", "/api/records", {"note": "Иванов\u0000 паспорт 4510 123456", "topics": ["roaming"]}, None),
]


@pytest.mark.parametrize(("method", "path", "body", "params"), FOUND_500S)
def test_the_inputs_that_were_500s_are_4xx_with_an_error_id(
    served: Any, method: str, path: str, body: Any, params: Any
) -> None:
    _, (server, session) = served
    r = session.request(method, server.url + path, json=body, params=params, timeout=30)
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    assert r.json()["error_id"]
