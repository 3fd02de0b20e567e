"""pyodbc backend: the operator's billing over unixODBC and the vendor's driver (``odbc://<connection string>``).

The password comes from ``settings.billing_password`` (environment), never from the URL in the repo.
Connections are opened read-only (``readonly=True`` plus the DBMS's own read-only session switch),
with autocommit, and with the driver's query timeout (``connection.timeout``).
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import pyodbc

from billing_adapter.dbapi import Backend

# per DBMS (as SQLGetInfo names it): the statement that makes the session read-only
_READ_ONLY = {
    "postgresql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
    "mysql": "SET SESSION TRANSACTION READ ONLY",
    "mariadb": "SET SESSION TRANSACTION READ ONLY",
    "sqlite": "PRAGMA query_only = 1",
}

# per DBMS: the server's own statement timeout, so a hung query is stopped where it runs
_SERVER_TIMEOUT = {
    "postgresql": "SET statement_timeout = {ms}",
    "mariadb": "SET SESSION max_statement_time = {s}",
    "mysql": "SET SESSION max_execution_time = {ms}",
}


def odbc_connection_string(url: str, password: str | None = None) -> str:
    """``odbc://DRIVER={PostgreSQL Unicode};SERVER=…`` → the connection string, with PWD added if given."""
    cs = url[len("odbc://") :] if url.startswith("odbc://") else url
    if password and "pwd=" not in cs.lower() and "password=" not in cs.lower():
        cs = cs.rstrip(";") + ";PWD={" + password.replace("}", "}}") + "}"
    return cs


class OdbcBackend(Backend):
    name = "odbc"
    errors = (pyodbc.Error,)

    def __init__(self, connection_string: str, timeout_s: float = 2.0) -> None:
        self.connection_string = connection_string
        self.timeout_s = timeout_s
        self.dbms = ""

    def connect(self) -> Any:
        login_timeout = max(1, math.ceil(self.timeout_s))
        try:  # SQL_ATTR_LOGIN_TIMEOUT: a billing that accepts TCP but never answers must not hang a worker
            conn = pyodbc.connect(
                self.connection_string, autocommit=True, readonly=True, timeout=login_timeout
            )
        except pyodbc.Error as exc:
            if "HYC00" not in str(exc) and "HY092" not in str(exc):
                raise
            conn = pyodbc.connect(self.connection_string, autocommit=True, readonly=True)
        # SQL_ATTR_QUERY_TIMEOUT on every statement, where the driver supports it; psqlODBC refuses it:
        # the server-side timeout below does the job
        with contextlib.suppress(pyodbc.Error):
            conn.timeout = max(1, math.ceil(self.timeout_s))
        conn.setdecoding(pyodbc.SQL_CHAR, encoding="utf-8")
        conn.setencoding(encoding="utf-8")
        dbms = str(conn.getinfo(pyodbc.SQL_DBMS_NAME) or "").lower()
        self.dbms = dbms
        for key, stmt in _READ_ONLY.items():
            if key in dbms:
                conn.execute(stmt)
                break
        ms = max(1, int(self.timeout_s * 1000))
        for key, stmt in _SERVER_TIMEOUT.items():
            if key in dbms:
                conn.execute(stmt.format(ms=ms, s=ms / 1000))
                break
        return conn

    def interrupt(self, conn: Any, cursor: Any) -> None:
        if cursor is not None:
            with contextlib.suppress(pyodbc.Error):
                cursor.cancel()

    def describe(self) -> str:
        return f"odbc:{self.dbms or 'unknown'}"
