"""``workstation billing check``: run every mapped query against the live billing and compare columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from billing_adapter.dbapi import DbApiBilling, _close_quietly, _first_line
from billing_adapter.lookup import month_range
from billing_adapter.ports import BillingError


@dataclass(frozen=True)
class CheckResult:
    query: str
    ok: bool
    detail: str  # "3 rows" or the problem, one line


def _sample_params(source: DbApiBilling, conn: Any) -> dict[str, Any]:
    """Parameters for a dry run: a real subscriber id when the billing has one."""
    m_from, m_to = month_range(date.today(), 3, full_only=True)
    params: dict[str, Any] = {
        "msisdn": "79000000000",
        "account": "0",
        "contract": "0",
        "last_name": "А%",
        "first_name": "%",
        "month_from": m_from,
        "month_to": m_to,
        "after_id": 0,
        "limit": 1,
        "subscriber_id": 1 if source.mapping.subscriber_id_type == "int" else "1",
    }
    q = source.mapping.query("batch_subscribers")
    cur = conn.cursor()
    try:
        cur.execute(q.sql, q.bind(params))
        row = cur.fetchone()
        if row is not None:
            idx = [str(d[0]).lower() for d in cur.description].index("subscriber_id")
            params["subscriber_id"] = row[idx]
    except source.backend.errors:
        pass
    finally:
        _close_quietly(cur)
    return params


def check_source(source: DbApiBilling) -> list[CheckResult]:
    """One result per mapped query; never raises for a query problem (it is reported)."""
    try:
        conn = source.backend.connect()
    except Exception as exc:
        if not isinstance(exc, BillingError | source.backend.errors):
            raise
        return [CheckResult("connect", False, f"cannot connect: {_first_line(exc)}")]
    results = []
    try:
        params = _sample_params(source, conn)
        for name, query in source.mapping.queries.items():
            cur = conn.cursor()
            try:
                cur.execute(query.sql, query.bind(params))
                rows = cur.fetchmany(5)
                got = {str(d[0]).lower() for d in cur.description or []}
                missing = [c for c in query.columns if c not in got]
                if missing:
                    results.append(CheckResult(name, False, f"the result has no column '{missing[0]}'"))
                    continue
                query.convert_rows(cur.description, rows)
                results.append(
                    CheckResult(name, True, f"{len(rows)} sample rows, {len(query.columns)} columns")
                )
            except source.backend.errors as exc:
                results.append(CheckResult(name, False, f"fails: {_first_line(exc)}"))
            except (TypeError, ValueError) as exc:
                results.append(CheckResult(name, False, f"values do not convert: {exc}"))
            finally:
                _close_quietly(cur)
    finally:
        _close_quietly(conn)
    return results
