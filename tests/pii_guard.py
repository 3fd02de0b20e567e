"""A pytest plugin: every log line the whole suite writes is kept, and at the end of the run it is
searched for the personal data of every demo billing the suite generated (full names, phone numbers,
passports, e-mails). A hit fails the run and names the logger, never the value.

Registered from ``tests/conftest.py``. The log is ``<basetemp>/suite-logs.txt`` (INFO and above, every
logger), kept after the run for inspection.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

CLIENT_LOGGERS = ("httpx", "httpcore", "urllib3")
_generated: list[Path] = []
_handler: logging.FileHandler | None = None
_log_path: Path | None = None

_PHONE = re.compile(r"(?<!\d)7\d{10}(?!\d)")
_PASSPORT = re.compile(r"(?<!\d)\d{4} \d{6}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_NAME = re.compile(r"[А-ЯЁ][а-яё]+ [А-ЯЁ][а-яё]+")


def _personal_values(db: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {"phone": set(), "passport": set(), "email": set(), "name": set()}
    if not db.exists():
        return out
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table, cols in (
            ("subscribers", ("last_name", "first_name", "passport", "email")),
            ("abonent", ("fam", "im", "pasp", "mail")),
        ):
            if table in tables:
                for last, first, passport, email in con.execute(f"SELECT {', '.join(cols)} FROM {table}"):
                    out["name"].add(f"{last} {first}")
                    out["passport"].add(str(passport))
                    out["email"].add(str(email))
        for table, col in (("msisdns", "msisdn"), ("tel", "tel")):
            if table in tables:
                out["phone"].update(str(r[0]).lstrip("+") for r in con.execute(f"SELECT {col} FROM {table}"))
    finally:
        con.close()
    return out


def pytest_sessionstart(session: Any) -> None:
    global _handler, _log_path
    config = session.config
    from billing_adapter import demo

    original = demo.generate_sqlite

    def recording(path: Path, *args: Any, **kwargs: Any) -> Any:
        _generated.append(Path(path))
        return original(path, *args, **kwargs)

    demo.generate_sqlite = recording  # type: ignore[assignment]
    base = Path(config._tmp_path_factory.getbasetemp())
    base.mkdir(parents=True, exist_ok=True)
    _log_path = base / "suite-logs.txt"
    _handler = logging.FileHandler(_log_path, encoding="utf-8")
    _handler.setLevel(logging.INFO)
    _handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    # the tests' own HTTP clients log the URLs they request (a searched name in a query): not the server
    _handler.addFilter(lambda r: not r.name.startswith(CLIENT_LOGGERS))
    root = logging.getLogger()
    root.addHandler(_handler)
    if root.level > logging.INFO:
        root.setLevel(logging.INFO)


def find_personal_data(log_path: Path, dbs: list[Path]) -> list[tuple[str, str]]:
    """(kind, logger) of every log line carrying a demo subscriber's personal data."""
    values: dict[str, set[str]] = {"phone": set(), "passport": set(), "email": set(), "name": set()}
    for db in dict.fromkeys(dbs):
        for kind, got in _personal_values(db).items():
            values[kind] |= got
    hits: list[tuple[str, str]] = []
    patterns = {"phone": _PHONE, "passport": _PASSPORT, "email": _EMAIL, "name": _NAME}
    with log_path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            for kind, pattern in patterns.items():
                if any(m in values[kind] for m in pattern.findall(line)):
                    hits.append((kind, line.split(" ", 1)[0]))
    return hits


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    if _handler is None or _log_path is None:
        return
    _handler.flush()
    logging.getLogger().removeHandler(_handler)
    _handler.close()
    hits = find_personal_data(_log_path, _generated)
    if hits:
        kinds = sorted({f"{kind} (logger {name})" for kind, name in hits})
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            f"PERSONAL DATA IN THE LOGS: {len(hits)} line(s): " + "; ".join(kinds), red=True
        )
        session.exitstatus = 1
