"""Deterministic demo billing: Russian subscribers, accounts, numbers, tariffs, services, monthly charges,
usage and payments, generated in chunks with numpy so 1M subscribers take minutes.

Faker ``ru_RU`` (seeded) makes small pools of names, streets and cities once; numpy combines them.
The same seed and size always give the same data. ``generate_sqlite`` writes the embedded demo DB
(``demo`` or ``legacy`` schema); ``billing_adapter.demo_load`` copies it into PostgreSQL / MariaDB.

Deliberate oddities, so the card has every state to show: ~3 % of subscribers have no charges, some
are blocked / suspended / closed, ~8 % have a negative balance, ~1 % share their number with another
account (one number, two subscribers).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from billing_adapter.demo_data import (
    _FEDERAL_CITIES,
    DEVICES,
    ITEMS,
    METHODS,
    REGIONS,
    SERVICES,
    STATUSES,
    TARIFFS,
)
from billing_adapter.demo_schema import LEGACY_RENAMES, STATUS_CODES, create_table_sql, index_sql, tables_for


@dataclass
class DemoSpec:
    subscribers: int = 10_000
    seed: int = 42
    months: int = 6
    # first day of the month the data run up to (exclusive): charges cover the `months` full months before
    as_of: date = field(default_factory=lambda: date.today().replace(day=1))
    chunk: int = 50_000

    def month_list(self) -> list[str]:
        y, m = self.as_of.year, self.as_of.month
        out = []
        for _ in range(self.months):
            m -= 1
            if m == 0:
                y, m = y - 1, 12
            out.append(f"{y:04d}-{m:02d}")
        return out[::-1]


def msisdn_of(ids: np.ndarray) -> np.ndarray:
    """Unique, deterministic Russian mobile numbers: 79xxxxxxxxx (a bijection of the id)."""
    return (79_000_000_000 + (ids.astype(np.int64) * 7919) % 1_000_000_000).astype(np.int64)


def _pools(seed: int) -> dict[str, np.ndarray]:
    from faker import Faker

    fk = Faker("ru_RU")
    fk.seed_instance(seed)

    def uniq(fn, n: int) -> np.ndarray:  # type: ignore[no-untyped-def]
        return np.array(sorted({fn() for _ in range(n)}))

    return {
        "last_m": uniq(fk.last_name_male, 600),
        "last_f": uniq(fk.last_name_female, 600),
        "first_m": uniq(fk.first_name_male, 300),
        "first_f": uniq(fk.first_name_female, 300),
        "middle_m": uniq(fk.middle_name_male, 150),
        "middle_f": uniq(fk.middle_name_female, 150),
        "street": uniq(fk.street_name, 600),
        "city": uniq(fk.city_name, 200),
        "nick": uniq(fk.user_name, 800),
        "domain": uniq(fk.free_email_domain, 20),
    }


def _dates(rng: np.random.Generator, start: date, end: date, n: int) -> np.ndarray:
    lo, hi = np.datetime64(start, "D").astype(np.int64), np.datetime64(end, "D").astype(np.int64)
    return rng.integers(lo, hi, n).astype("datetime64[D]")


def reference_frames() -> Iterator[tuple[str, pd.DataFrame]]:
    yield (
        "tariffs",
        pd.DataFrame(
            {
                "id": range(1, len(TARIFFS) + 1),
                "name": [t[0] for t in TARIFFS],
                "monthly_fee": [t[1] for t in TARIFFS],
            }
        ),
    )
    yield (
        "services",
        pd.DataFrame(
            {
                "id": range(1, len(SERVICES) + 1),
                "code": [s[0] for s in SERVICES],
                "name": [s[1] for s in SERVICES],
                "monthly_fee": [s[2] for s in SERVICES],
            }
        ),
    )


def generate(spec: DemoSpec) -> Iterator[tuple[str, pd.DataFrame]]:
    """Yield (demo table name, rows) chunk by chunk; memory stays bounded by ``spec.chunk``."""
    pools = _pools(spec.seed)
    yield from reference_frames()
    months = spec.month_list()
    for start in range(1, spec.subscribers + 1, spec.chunk):
        ids = np.arange(start, min(start + spec.chunk, spec.subscribers + 1), dtype=np.int64)
        rng = np.random.default_rng([spec.seed, int(start)])
        yield from _chunk(rng, ids, pools, months, spec)


def _pick(rng: np.random.Generator, pool: np.ndarray, n: int) -> np.ndarray:
    return pool[rng.integers(0, len(pool), n)]


def _chunk(
    rng: np.random.Generator, ids: np.ndarray, pools: dict[str, np.ndarray], months: list[str], spec: DemoSpec
) -> Iterator[tuple[str, pd.DataFrame]]:
    n = len(ids)
    male = rng.random(n) < 0.5
    last = np.where(male, _pick(rng, pools["last_m"], n), _pick(rng, pools["last_f"], n))
    first = np.where(male, _pick(rng, pools["first_m"], n), _pick(rng, pools["first_f"], n))
    middle = np.where(male, _pick(rng, pools["middle_m"], n), _pick(rng, pools["middle_f"], n))
    today = spec.as_of
    birth = _dates(rng, date(today.year - 80, 1, 1), date(today.year - 18, 1, 1), n)
    reg_names = np.array([r[0] for r in REGIONS])
    reg_w = np.array([r[1] for r in REGIONS], dtype=float)
    region = reg_names[rng.choice(len(REGIONS), n, p=reg_w / reg_w.sum())]
    city = _pick(rng, pools["city"], n)
    street = _pick(rng, pools["street"], n)
    house, flat = rng.integers(1, 120, n), rng.integers(1, 400, n)
    address = [  # federal cities are their own region
        (f"г. {r}" if r in _FEDERAL_CITIES else f"{r}, г. {c}") + f", {s}, д. {h}, кв. {f}"
        for r, c, s, h, f in zip(region, city, street, house, flat, strict=True)
    ]
    email = [
        f"{nk}{i}@{d}"
        for nk, i, d in zip(_pick(rng, pools["nick"], n), ids, _pick(rng, pools["domain"], n), strict=True)
    ]
    passport = [
        f"{a:02d} {b:02d} {c:06d}"
        for a, b, c in zip(
            *(rng.integers(1, 99, n), rng.integers(0, 99, n), rng.integers(0, 999999, n)), strict=True
        )
    ]
    status = np.array(STATUSES[0])[rng.choice(4, n, p=STATUSES[1])]
    activated = _dates(rng, date(2005, 1, 1), date(today.year, today.month, 1), n)
    tariff = rng.integers(1, len(TARIFFS) + 1, n)
    yield (
        "subscribers",
        pd.DataFrame(
            {
                "id": ids,
                "last_name": last,
                "first_name": first,
                "middle_name": middle,
                "birth_date": birth,
                "sex": np.where(male, "M", "F"),
                "passport": passport,
                "address": address,
                "email": email,
                "region": region,
                "device_class": np.array(DEVICES[0])[rng.choice(len(DEVICES[0]), n, p=DEVICES[1])],
                "status": status,
                "activated_on": activated,
                "tariff_id": tariff,
            }
        ),
    )
    negative = (rng.random(n) < 0.08) | (status == "blocked")
    balance = np.where(negative, -rng.gamma(2.0, 120.0, n), rng.gamma(2.0, 250.0, n)).round(2)
    credit = rng.choice([0.0, 0.0, 0.0, 300.0, 500.0, 1000.0], n)
    yield (
        "accounts",
        pd.DataFrame(
            {
                "id": ids,
                "subscriber_id": ids,
                "account_no": [f"{1_000_000_000 + i}" for i in ids],
                "contract_no": [f"D-{int(str(d)[:4])}-{i:07d}" for d, i in zip(activated, ids, strict=True)],
                "balance": balance,
                "credit_limit": credit,
            }
        ),
    )
    numbers = msisdn_of(ids).astype(str)
    shared = (rng.random(n) < 0.01) & (ids > 1)
    yield (
        "msisdns",
        pd.DataFrame(
            {
                "msisdn": np.concatenate([numbers, msisdn_of(ids[shared] - 1).astype(str)]),
                "account_id": np.concatenate([ids, ids[shared]]),
                "is_primary": np.concatenate(
                    [np.ones(n, dtype=np.int64), np.zeros(int(shared.sum()), dtype=np.int64)]
                ),
            }
        ),
    )
    yield "subscriber_services", _services(rng, ids, activated, today)
    yield from _monthly(rng, ids, tariff, activated, negative, months)


def _services(rng: np.random.Generator, ids: np.ndarray, activated: np.ndarray, today: date) -> pd.DataFrame:
    count = rng.integers(0, 5, len(ids))
    sub = np.repeat(ids, count)
    act = np.repeat(activated, count)
    svc = rng.integers(1, len(SERVICES) + 1, len(sub))
    frame = pd.DataFrame({"subscriber_id": sub, "service_id": svc}).drop_duplicates()
    m = len(frame)
    keep = frame.index.to_numpy()
    lo = act[keep].astype(np.int64)
    hi = np.datetime64(today, "D").astype(np.int64)
    frame["status"] = np.where(rng.random(m) < 0.9, "active", "suspended")
    frame["monthly_fee"] = np.array([s[2] for s in SERVICES])[frame["service_id"].to_numpy() - 1]
    frame["since"] = (lo + (rng.random(m) * (hi - lo)).astype(np.int64)).astype("datetime64[D]")
    return frame.reset_index(drop=True)


def _monthly(
    rng: np.random.Generator,
    ids: np.ndarray,
    tariff: np.ndarray,
    activated: np.ndarray,
    negative: np.ndarray,
    months: list[str],
) -> Iterator[tuple[str, pd.DataFrame]]:
    n = len(ids)
    silent = rng.random(n) < 0.03  # subscribers with no charges at all
    fees = np.array([t[1] for t in TARIFFS])[tariff - 1]
    usage, charges, payments = [], [], []
    for month in months:
        live = ~silent & (activated < np.datetime64(month + "-01", "D"))
        s = ids[live]
        k = len(s)
        voice = np.where(rng.random(k) < 0.9, rng.gamma(2.0, 120.0, k), 0).astype(np.int64)
        sms = np.where(rng.random(k) < 0.5, rng.poisson(20, k), 0).astype(np.int64)
        data = np.where(rng.random(k) < 0.8, rng.gamma(1.5, 3000.0, k), 0).astype(np.int64)
        roam = np.where(rng.random(k) < 0.03, rng.gamma(2.0, 15.0, k), 0).round(0)
        other = np.where(rng.random(k) < 0.1, rng.integers(1, 5, k), 0)
        neg_days = np.where(negative[live], rng.integers(1, 31, k), 0)
        usage.append(
            pd.DataFrame(
                {
                    "subscriber_id": s,
                    "month": month,
                    "voice_min": voice,
                    "sms_count": sms,
                    "data_mb": data,
                    "negative_balance_days": neg_days,
                }
            )
        )
        amounts = {
            "voice": (voice, (voice * rng.uniform(0.2, 1.0, k)).round(2)),
            "sms": (sms, (sms * 2.5).round(2)),
            "data": (data, (data * rng.uniform(0.005, 0.03, k)).round(2)),
            "subscription": (np.ones(k), fees[live]),
            "roaming": (roam, (roam * 49.0).round(2)),
            "other": (other, (other * 39.0).round(2)),
        }
        for cat, (qty, amount) in amounts.items():
            has = amount > 0
            desc, unit = ITEMS[cat]
            charges.append(
                pd.DataFrame(
                    {
                        "subscriber_id": s[has],
                        "month": month,
                        "category": cat,
                        "description": desc,
                        "amount": amount[has],
                        "quantity": qty[has].astype(float),
                        "unit": unit,
                    }
                )
            )
        times = rng.poisson(1.0, k)
        p_sub = np.repeat(s, times)
        pk = len(p_sub)
        day0 = np.datetime64(month + "-01", "s").astype(np.int64)
        payments.append(
            pd.DataFrame(
                {
                    "subscriber_id": p_sub,
                    "account_id": p_sub,
                    "paid_at": (day0 + rng.integers(0, 27 * 86400, pk)).astype("datetime64[s]"),
                    "period": month,
                    "amount": (rng.integers(1, 31, pk) * 50).astype(float),
                    "method": np.array(METHODS[0])[rng.choice(len(METHODS[0]), pk, p=METHODS[1])],
                }
            )
        )
    yield "monthly_usage", pd.concat(usage, ignore_index=True)
    yield "charges", pd.concat(charges, ignore_index=True)
    pay = pd.concat(payments, ignore_index=True).sort_values(["subscriber_id", "paid_at"], kind="stable")
    pay.insert(
        0, "id", pay["subscriber_id"].to_numpy() * 100 + pay.groupby("subscriber_id").cumcount().to_numpy()
    )
    yield "payments", pay.reset_index(drop=True)


def to_legacy(table: str, frame: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """Convert a demo table chunk to the legacy schema (renamed, kopecks, status codes)."""
    for legacy, (demo, cols, _) in LEGACY_RENAMES.items():
        if demo != table:
            continue
        out = pd.DataFrame()
        for new, old, kind in cols:
            col = frame[old]
            if kind == "kop":
                col = (col.astype(float) * 100).round().astype(np.int64)
            elif kind == "status_code":
                col = col.map(STATUS_CODES).astype(np.int64)
            out[new] = col
        return legacy, out
    raise KeyError(table)


def rows_of(frame: pd.DataFrame, types: dict[str, str]) -> list[tuple[object, ...]]:
    """Plain Python rows (dates and timestamps as ISO text) ready for any DB-API ``executemany``."""
    cols = []
    for c in frame.columns:
        col = frame[c]
        if types.get(c) == "date":
            cols.append(col.dt.strftime("%Y-%m-%d").tolist())
        elif types.get(c) == "ts":
            cols.append(col.dt.strftime("%Y-%m-%d %H:%M:%S").tolist())
        else:
            cols.append(col.tolist())
    return list(zip(*cols, strict=True))


def generate_sqlite(path: Path, spec: DemoSpec, schema: str = "demo") -> dict[str, int]:
    """Write a fresh SQLite billing at ``path``; returns row counts per table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.unlink(missing_ok=True)
    tables = tables_for(schema)
    counts: dict[str, int] = {}
    con = sqlite3.connect(tmp)
    try:
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        for name, table in tables.items():
            con.execute(create_table_sql("sqlite", name, table))
        for demo_table, frame in generate(spec):
            name, rows = to_legacy(demo_table, frame) if schema == "legacy" else (demo_table, frame)
            types = dict(tables[name][0])
            cols = ", ".join(rows.columns)
            marks = ", ".join("?" * len(rows.columns))
            con.executemany(f"INSERT INTO {name} ({cols}) VALUES ({marks})", rows_of(rows, types))
            counts[name] = counts.get(name, 0) + len(rows)
        for name, table in tables.items():
            for stmt in index_sql("sqlite", name, table):
                con.execute(stmt)
        con.commit()
    finally:
        con.close()
    tmp.replace(path)
    return counts
