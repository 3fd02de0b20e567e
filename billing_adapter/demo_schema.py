"""Table layouts of the generated billings and their DDL for SQLite, PostgreSQL and MariaDB.

Two schemas hold the same data: ``demo`` (plain names, money in roubles, statuses as words) and
``legacy`` (other table and column names, money in kopecks, statuses as numeric codes), so that the
second mapping file (``mappings/legacy_kopecks.yaml``) proves a new billing takes a file, not a release.
"""

from __future__ import annotations

# column types: str, int, money (roubles, 2 decimals), date, ts
Table = tuple[list[tuple[str, str]], list[tuple[str, ...]]]  # (columns, indexes)

DEMO: dict[str, Table] = {
    "tariffs": ([("id", "int"), ("name", "str"), ("monthly_fee", "money")], []),
    "services": ([("id", "int"), ("code", "str"), ("name", "str"), ("monthly_fee", "money")], []),
    "subscribers": (
        [
            ("id", "int"),
            ("last_name", "str"),
            ("first_name", "str"),
            ("middle_name", "str"),
            ("birth_date", "date"),
            ("sex", "str"),
            ("passport", "str"),
            ("address", "str"),
            ("email", "str"),
            ("region", "str"),
            ("device_class", "str"),
            ("status", "str"),
            ("activated_on", "date"),
            ("tariff_id", "int"),
        ],
        [("last_name", "first_name")],
    ),
    "accounts": (
        [
            ("id", "int"),
            ("subscriber_id", "int"),
            ("account_no", "str"),
            ("contract_no", "str"),
            ("balance", "money"),
            ("credit_limit", "money"),
        ],
        [("subscriber_id",), ("account_no",), ("contract_no",)],
    ),
    "msisdns": (
        [("msisdn", "str"), ("account_id", "int"), ("is_primary", "int")],
        [("msisdn",), ("account_id",)],
    ),
    "subscriber_services": (
        [
            ("subscriber_id", "int"),
            ("service_id", "int"),
            ("status", "str"),
            ("monthly_fee", "money"),
            ("since", "date"),
        ],
        [("subscriber_id",)],
    ),
    "charges": (
        [
            ("subscriber_id", "int"),
            ("month", "str"),
            ("category", "str"),
            ("description", "str"),
            ("amount", "money"),
            ("quantity", "money"),
            ("unit", "str"),
        ],
        [("subscriber_id", "month")],
    ),
    "monthly_usage": (
        [
            ("subscriber_id", "int"),
            ("month", "str"),
            ("voice_min", "int"),
            ("sms_count", "int"),
            ("data_mb", "int"),
            ("negative_balance_days", "int"),
        ],
        [("subscriber_id", "month")],
    ),
    "payments": (
        [
            ("id", "int"),
            ("subscriber_id", "int"),
            ("account_id", "int"),
            ("paid_at", "ts"),
            ("period", "str"),
            ("amount", "money"),
            ("method", "str"),
        ],
        [("subscriber_id", "paid_at")],
    ),
}

PRIMARY_KEYS = {
    "tariffs": "id",
    "services": "id",
    "subscribers": "id",
    "accounts": "id",
    "payments": "id",
    "abn": "abn_id",
    "lschet": "ls_id",
    "tplan": "tp_id",
    "usluga": "us_id",
    "plat": "pl_id",
}

# legacy: table -> (demo table, [(legacy column, demo column, type)], indexes)
LEGACY_RENAMES: dict[str, tuple[str, list[tuple[str, str, str]], list[tuple[str, ...]]]] = {
    "tplan": (
        "tariffs",
        [("tp_id", "id", "int"), ("tp_name", "name", "str"), ("ap_kop", "monthly_fee", "kop")],
        [],
    ),
    "usluga": (
        "services",
        [
            ("us_id", "id", "int"),
            ("us_code", "code", "str"),
            ("us_name", "name", "str"),
            ("ap_kop", "monthly_fee", "kop"),
        ],
        [],
    ),
    "abn": (
        "subscribers",
        [
            ("abn_id", "id", "int"),
            ("fam", "last_name", "str"),
            ("im", "first_name", "str"),
            ("otch", "middle_name", "str"),
            ("dr", "birth_date", "date"),
            ("pol", "sex", "str"),
            ("pasp", "passport", "str"),
            ("adr", "address", "str"),
            ("mail", "email", "str"),
            ("reg_name", "region", "str"),
            ("dev", "device_class", "str"),
            ("st_code", "status", "status_code"),
            ("dt_act", "activated_on", "date"),
            ("tp_id", "tariff_id", "int"),
        ],
        [("fam", "im")],
    ),
    "lschet": (
        "accounts",
        [
            ("ls_id", "id", "int"),
            ("abn_id", "subscriber_id", "int"),
            ("ls_num", "account_no", "str"),
            ("dog_num", "contract_no", "str"),
            ("saldo_kop", "balance", "kop"),
            ("kred_kop", "credit_limit", "kop"),
        ],
        [("abn_id",), ("ls_num",), ("dog_num",)],
    ),
    "nomer": (
        "msisdns",
        [("tel", "msisdn", "str"), ("ls_id", "account_id", "int"), ("osn", "is_primary", "int")],
        [("tel",), ("ls_id",)],
    ),
    "abn_usl": (
        "subscriber_services",
        [
            ("abn_id", "subscriber_id", "int"),
            ("us_id", "service_id", "int"),
            ("st_code", "status", "status_code"),
            ("ap_kop", "monthly_fee", "kop"),
            ("dt_on", "since", "date"),
        ],
        [("abn_id",)],
    ),
    "nach": (
        "charges",
        [
            ("abn_id", "subscriber_id", "int"),
            ("period", "month", "str"),
            ("kat", "category", "str"),
            ("opis", "description", "str"),
            ("sum_kop", "amount", "kop"),
            ("kol", "quantity", "money"),
            ("ed", "unit", "str"),
        ],
        [("abn_id", "period")],
    ),
    "rashod": (
        "monthly_usage",
        [
            ("abn_id", "subscriber_id", "int"),
            ("period", "month", "str"),
            ("min_cnt", "voice_min", "int"),
            ("sms_cnt", "sms_count", "int"),
            ("mb_cnt", "data_mb", "int"),
            ("minus_days", "negative_balance_days", "int"),
        ],
        [("abn_id", "period")],
    ),
    "plat": (
        "payments",
        [
            ("pl_id", "id", "int"),
            ("abn_id", "subscriber_id", "int"),
            ("ls_id", "account_id", "int"),
            ("dt_pl", "paid_at", "ts"),
            ("period", "period", "str"),
            ("sum_kop", "amount", "kop"),
            ("sposob", "method", "str"),
        ],
        [("abn_id", "dt_pl")],
    ),
}

STATUS_CODES = {"active": 1, "blocked": 2, "suspended": 3, "closed": 4}


def legacy_tables() -> dict[str, Table]:
    """The legacy schema in the same shape as ``DEMO``."""
    out: dict[str, Table] = {}
    for name, (_, cols, idx) in LEGACY_RENAMES.items():
        out[name] = ([(c, "int" if t in ("kop", "status_code") else t) for c, _, t in cols], idx)
    return out


def tables_for(schema: str) -> dict[str, Table]:
    if schema == "demo":
        return DEMO
    if schema == "legacy":
        return legacy_tables()
    raise ValueError(f"unknown billing schema {schema!r} (demo or legacy)")


_TYPES = {
    "sqlite": {"str": "TEXT", "int": "INTEGER", "money": "NUMERIC", "date": "TEXT", "ts": "TEXT"},
    "postgresql": {
        "str": "VARCHAR(200)",
        "int": "BIGINT",
        "money": "NUMERIC(14,2)",
        "date": "DATE",
        "ts": "TIMESTAMP",
    },
    "mariadb": {
        "str": "VARCHAR(200)",
        "int": "BIGINT",
        "money": "DECIMAL(14,2)",
        "date": "DATE",
        "ts": "DATETIME",
    },
}


def create_table_sql(dialect: str, name: str, table: Table) -> str:
    cols, _ = table
    types = _TYPES[dialect]
    pk = PRIMARY_KEYS.get(name)
    parts = [f"{c} {types[t]}" + (" PRIMARY KEY" if c == pk else "") for c, t in cols]
    suffix = " CHARACTER SET utf8mb4" if dialect == "mariadb" else ""
    return f"CREATE TABLE {name} ({', '.join(parts)}){suffix}"


def index_sql(dialect: str, name: str, table: Table) -> list[str]:
    out = []
    for i, cols in enumerate(table[1]):
        ops = " varchar_pattern_ops" if dialect == "postgresql" and cols[0] in ("last_name", "fam") else ""
        col_list = ", ".join(c + (ops if j == 0 else "") for j, c in enumerate(cols))
        out.append(f"CREATE INDEX ix_{name}_{i} ON {name} ({col_list})")
    if dialect == "postgresql" and any(cols[0] in ("last_name", "fam") for cols in table[1]):
        col = "last_name" if name == "subscribers" else "fam"
        out.append(f"CREATE INDEX ix_{name}_eq ON {name} ({col})")
    return out
