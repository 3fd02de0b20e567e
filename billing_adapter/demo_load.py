"""Copy a generated SQLite billing into PostgreSQL (COPY) or MariaDB (batched INSERT over ODBC).

URLs: ``postgresql://user[:password]@host[:port]/db`` and ``mariadb://user[:password]@host[:port]/db``.
The target database must exist and must not hold the billing tables yet.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from billing_adapter.demo import DemoSpec, generate, rows_of, to_legacy
from billing_adapter.demo_schema import create_table_sql, index_sql, legacy_tables, tables_for

BATCH = 20_000


class LoadError(Exception):
    """One line saying what went wrong (bad URL, tables already there, server unreachable)."""


def detect_schema(con: sqlite3.Connection) -> str:
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "subscribers" in names:
        return "demo"
    if set(legacy_tables()) <= names:
        return "legacy"
    raise LoadError("the SQLite file holds no generated billing (run `workstation billing generate` first)")


def _chunks(con: sqlite3.Connection, table: str, cols: list[str]) -> Iterator[list[tuple[object, ...]]]:
    cur = con.execute(f"SELECT {', '.join(cols)} FROM {table}")
    while rows := cur.fetchmany(BATCH):
        yield rows


def load(sqlite_path: Path, url: str) -> dict[str, int]:
    """Load every table of ``sqlite_path`` into the database at ``url``; returns row counts."""
    if not sqlite_path.exists():
        raise LoadError(f"no billing file at {sqlite_path}")
    con = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        schema = detect_schema(con)
        scheme = urlsplit(url).scheme
        if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
            return _load_pg(con, schema, url)
        if scheme in ("mariadb", "mysql"):
            return _load_mariadb(con, schema, url)
        raise LoadError(f"unsupported target {scheme or url!r}: use postgresql://… or mariadb://…")
    finally:
        con.close()


def _load_pg(con: sqlite3.Connection, schema: str, url: str) -> dict[str, int]:
    import psycopg

    url = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        pg = psycopg.connect(url, autocommit=False)
    except psycopg.Error as exc:
        raise LoadError(f"cannot connect to PostgreSQL: {str(exc).splitlines()[0]}") from None
    counts: dict[str, int] = {}
    try:
        with pg.cursor() as cur:
            for name, table in tables_for(schema).items():
                try:
                    cur.execute(create_table_sql("postgresql", name, table))
                except psycopg.errors.DuplicateTable:
                    raise LoadError(f"table {name} already exists in the target database") from None
                cols = [c for c, _ in table[0]]
                with cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy:
                    for rows in _chunks(con, name, cols):
                        for row in rows:
                            copy.write_row(row)
                        counts[name] = counts.get(name, 0) + len(rows)
                for stmt in index_sql("postgresql", name, table):
                    cur.execute(stmt)
            pg.commit()
            pg.autocommit = True
            cur.execute("ANALYZE")
    finally:
        pg.close()
    return counts


def generate_into_pg(url: str, spec: DemoSpec, schema: str = "demo") -> dict[str, int]:
    """Generate straight into an empty PostgreSQL database with COPY (no SQLite step): for benchmarks."""
    import psycopg

    tables = tables_for(schema)
    counts: dict[str, int] = {}
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as pg, pg.cursor() as cur:
        for name, table in tables.items():
            cur.execute(create_table_sql("postgresql", name, table))
        for demo_table, frame in generate(spec):
            name, rows = to_legacy(demo_table, frame) if schema == "legacy" else (demo_table, frame)
            cols = list(rows.columns)
            with cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows_of(rows, dict(tables[name][0])):
                    copy.write_row(row)
            counts[name] = counts.get(name, 0) + len(rows)
        for name, table in tables.items():
            for stmt in index_sql("postgresql", name, table):
                cur.execute(stmt)
        pg.commit()
        pg.autocommit = True
        cur.execute("ANALYZE")
    return counts


def mariadb_odbc_string(url: str) -> str:
    """ODBC connection string for the MariaDB driver from a ``mariadb://`` URL."""
    u = urlsplit(url)
    parts = [
        "DRIVER={MariaDB Unicode}",
        f"SERVER={u.hostname or '127.0.0.1'}",
        f"PORT={u.port or 3306}",
        f"USER={unquote(u.username or 'root')}",
        f"DATABASE={u.path.lstrip('/')}",
        "CHARSET=utf8mb4",
    ]
    if u.password:
        parts.append(f"PASSWORD={unquote(u.password)}")
    return ";".join(parts)


def _load_mariadb(con: sqlite3.Connection, schema: str, url: str) -> dict[str, int]:
    import pyodbc

    try:
        my = pyodbc.connect(mariadb_odbc_string(url), autocommit=False)
    except pyodbc.Error as exc:
        raise LoadError(f"cannot connect to MariaDB: {exc.args[-1]}") from None
    counts: dict[str, int] = {}
    per_stmt = 500
    try:
        cur = my.cursor()
        for name, table in tables_for(schema).items():
            try:
                cur.execute(create_table_sql("mariadb", name, table))
            except pyodbc.Error as exc:
                raise LoadError(f"cannot create table {name}: {exc.args[-1]}") from None
            cols = [c for c, _ in table[0]]
            row_marks = "(" + ", ".join("?" * len(cols)) + ")"
            head = f"INSERT INTO {name} ({', '.join(cols)}) VALUES "
            for rows in _chunks(con, name, cols):
                for i in range(0, len(rows), per_stmt):
                    part = rows[i : i + per_stmt]
                    cur.execute(head + ", ".join([row_marks] * len(part)), [v for r in part for v in r])
                counts[name] = counts.get(name, 0) + len(rows)
            for stmt in index_sql("mariadb", name, table):
                cur.execute(stmt)
        my.commit()
    finally:
        my.close()
    return counts
