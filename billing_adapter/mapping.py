"""The SQL mapping: one YAML file per billing schema says which SQL answers each query the workstation asks.

A mapping file has::

    name: demo
    ping: SELECT 1                      # optional liveness query
    converters:                         # optional value converters
      kopecks: {scale: 0.01}            # money stored in kopecks -> roubles
      status: {map: {1: active, 2: blocked}}
    queries:
      card:
        sql: SELECT ... WHERE s.id = :subscriber_id      # named parameters only
        columns: [subscriber_id, last_name, ...]          # exactly the columns of QUERIES['card']
        convert: {balance: kopecks, status: status}

``load_mapping`` checks the file against ``QUERIES`` (the contract with the code) and stops at the first
problem with ONE line naming the query and what is wrong: a missing query, an unknown or missing
column, a wrong parameter count or name, an unknown converter, a statement that is not a SELECT.
Parameters are always bound (``:name`` becomes ``?``): caller IDs and search text never become SQL text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from billing_adapter.ports import BillingError

MAPPINGS_DIR = Path(__file__).parent / "mappings"

_REF = {
    "subscriber_id": "str",
    "last_name": "str",
    "first_name": "str",
    "middle_name": "str",
    "msisdn": "str",
    "account": "str",
    "contract": "str",
    "status": "str",
}
# a search hit also names the region: it tells namesakes apart in the operator's match list
_HIT = {**_REF, "region": "str"}


@dataclass(frozen=True)
class QuerySpec:
    """What the code asks of one query: its parameters (in any order in the SQL) and its columns."""

    params: tuple[str, ...]
    columns: dict[str, str]  # column -> type: str | int | float | date | ts
    optional: bool = False


QUERIES: dict[str, QuerySpec] = {
    "subscriber_by_msisdn": QuerySpec(("msisdn",), _HIT),
    "subscriber_by_account": QuerySpec(("account",), _HIT),
    "subscriber_by_contract": QuerySpec(("contract",), _HIT),
    "subscriber_by_name": QuerySpec(("last_name", "first_name"), _HIT),
    "card": QuerySpec(
        ("subscriber_id",),
        {
            **_REF,
            "balance": "float",
            "credit_limit": "float",
            "tariff": "str",
            "region": "str",
            "since": "date",
        },
    ),
    "services": QuerySpec(
        ("subscriber_id",),
        {"code": "str", "name": "str", "status": "str", "monthly_fee": "float", "since": "date"},
    ),
    "charges": QuerySpec(
        ("subscriber_id", "month_from", "month_to"),
        {
            "month": "str",
            "category": "str",
            "description": "str",
            "amount": "float",
            "quantity": "float",
            "unit": "str",
        },
    ),
    "payments": QuerySpec(("subscriber_id",), {"paid_at": "ts", "amount": "float", "method": "str"}),
    "arpu": QuerySpec(("subscriber_id", "month_from", "month_to"), {"arpu": "float"}),
    "batch_subscribers": QuerySpec(
        ("after_id", "limit"),
        {
            "subscriber_id": "int",
            "birth_date": "date",
            "sex": "str",
            "region": "str",
            "tariff": "str",
            "activated_on": "date",
            "device_class": "str",
            "status": "str",
        },
    ),
    "batch_monthly": QuerySpec(
        ("month_from", "month_to", "after_id", "limit"),
        {
            "subscriber_id": "int",
            "month": "str",
            **{c: "float" for c in ("voice", "sms", "data", "subscription", "roaming", "other")},
            **{c: "int" for c in ("voice_min", "sms_count", "data_mb")},
            "payments_count": "int",
            "payments_sum": "float",
            "negative_days": "int",
        },
    ),
}

_PARAM = re.compile(r"'(?:[^']|'')*'|::|(?<![:\w]):([A-Za-z_]\w*)")


class MappingError(BillingError):
    """A broken mapping file: the message is one line naming the query and the problem."""

    error_id = "billing_mapping"


def parse_sql(sql: str) -> tuple[str, list[str]]:
    """``:name`` placeholders → ``?``; returns the new SQL and the parameter names in order."""
    names: list[str] = []

    def repl(m: re.Match[str]) -> str:
        if m.group(1) is None:
            return m.group(0)
        names.append(m.group(1))
        return "?"

    return _PARAM.sub(repl, sql), names


Converter = Callable[[Any], Any]


def _make_converter(where: str, spec: Any) -> tuple[Converter, Any]:
    if isinstance(spec, dict) and "scale" in spec and isinstance(spec["scale"], int | float):
        factor = float(spec["scale"])
        return (lambda v: None if v is None else round(float(v) * factor, 2)), ("scale", factor)
    if isinstance(spec, dict) and isinstance(spec.get("map"), dict):
        table = {str(k): v for k, v in spec["map"].items()}

        def lookup(v: Any) -> Any:
            if v is None:
                return None
            key = str(int(v)) if isinstance(v, int | Decimal | float) else str(v).strip()
            return table.get(key, f"unknown({key})")

        return lookup, ("map", table)
    raise MappingError(f"{where}: a converter must be {{scale: <number>}} or {{map: {{code: name}}}}")


def _coerce(kind: str) -> Converter:
    if kind == "str":
        return lambda v: "" if v is None else (v.strip() if isinstance(v, str) else str(v))
    if kind == "int":
        return lambda v: 0 if v is None else int(v)
    if kind == "float":
        return lambda v: None if v is None else round(float(v), 2)
    if kind == "date":
        return _to_date
    return _to_ts


def _to_date(v: Any) -> date | None:
    if v is None or v == "":
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


def _to_ts(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, datetime | date):
        return v.isoformat()
    return str(v).replace(" ", "T", 1)


@dataclass
class Query:
    """One mapped query, ready to run: positional SQL, parameter order, row converters."""

    name: str
    sql: str
    param_order: list[str]
    columns: list[str]
    spec: QuerySpec
    converters: dict[str, Converter] = field(default_factory=dict)
    frame_converters: dict[str, tuple[str, Any]] = field(default_factory=dict)

    def bind(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(values[p] for p in self.param_order)

    def convert_rows(
        self, description: Sequence[Sequence[Any]], rows: Sequence[Sequence[Any]]
    ) -> list[dict[str, Any]]:
        """Rows as dicts of the declared columns, converted and typed."""
        index = column_index(self, description)
        steps = [
            (col, index[col], self.converters.get(col), _coerce(self.spec.columns[col]))
            for col in self.columns
        ]
        out = []
        for row in rows:
            item: dict[str, Any] = {}
            for col, i, conv, coerce in steps:
                v = row[i]
                if conv is not None:
                    v = conv(v)
                item[col] = coerce(v)
            out.append(item)
        return out


def column_index(query: Query, description: Sequence[Sequence[Any]]) -> dict[str, int]:
    """Map declared columns to result positions; a missing column is a mapping error."""
    got = {str(d[0]).lower(): i for i, d in enumerate(description)}
    missing = [c for c in query.columns if c not in got]
    if missing:
        raise MappingError(f"query '{query.name}': the result has no column '{missing[0]}'")
    return {c: got[c] for c in query.columns}


@dataclass
class BillingMapping:
    """A validated mapping: its queries by name and the liveness query."""

    name: str
    path: Path
    queries: dict[str, Query]
    ping: str = "SELECT 1"
    # "int": subscriber ids are integers in this billing (a non-numeric id is simply not found)
    subscriber_id_type: str = "str"
    # how this billing's account and contract numbers look (regular expressions): the PII scrubber
    # takes them, so notes quoting them are scrubbed whatever the billing
    identifier_formats: dict[str, str] = field(default_factory=dict)

    def query(self, name: str) -> Query:
        return self.queries[name]


def resolve_mapping_path(path: Path | str | None) -> Path:
    """``None`` → the demo mapping; a bare name (``legacy_kopecks``) → the shipped file of that name."""
    if path is None or str(path) == "":
        return MAPPINGS_DIR / "demo.yaml"
    p = Path(path)
    if not p.exists() and (MAPPINGS_DIR / f"{p.name}.yaml").exists():
        return MAPPINGS_DIR / f"{p.name}.yaml"
    return p


def load_mapping(path: Path | str | None = None) -> BillingMapping:
    """Read and validate a mapping file; raise ``MappingError`` with one line on the first problem."""
    p = resolve_mapping_path(path)
    label = f"billing mapping {p.name}"
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"{label}: file not found at {p}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise MappingError(f"{label}: not valid YAML{where}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("queries"), dict):
        raise MappingError(f"{label}: no 'queries' section")
    conv_specs = doc.get("converters") or {}
    if not isinstance(conv_specs, dict):
        raise MappingError(f"{label}: 'converters' must be a mapping of name -> converter")
    id_type = str(doc.get("subscriber_id_type") or "str")
    if id_type not in ("str", "int"):
        raise MappingError(f"{label}: subscriber_id_type must be str or int")
    converters = {n: _make_converter(f"{label}: converter '{n}'", s) for n, s in conv_specs.items()}
    formats = _identifier_formats(label, doc.get("identifier_formats"))
    queries: dict[str, Query] = {}
    for qname, spec in QUERIES.items():
        raw = doc["queries"].get(qname)
        if raw is None:
            if spec.optional:
                continue
            raise MappingError(f"{label}: query '{qname}' is missing")
        queries[qname] = _build_query(label, qname, spec, raw, converters)
    extra = sorted(set(doc["queries"]) - set(QUERIES))
    if extra:
        raise MappingError(f"{label}: query '{extra[0]}' is not a query the workstation knows")
    return BillingMapping(
        name=str(doc.get("name") or p.stem),
        path=p,
        queries=queries,
        ping=str(doc.get("ping") or "SELECT 1"),
        subscriber_id_type=id_type,
        identifier_formats=formats,
    )


def _identifier_formats(label: str, raw: Any) -> dict[str, str]:
    """``identifier_formats: {account: '10\\d{8}', contract: 'D-\\d{4}-\\d{7}'}`` (optional)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise MappingError(f"{label}: identifier_formats must map a name to one regular expression")
    for name, pattern in raw.items():
        try:
            re.compile(pattern)
        except re.error as exc:
            raise MappingError(
                f"{label}: identifier_formats '{name}' is not a valid pattern: {exc}"
            ) from None
    return {str(k): str(v) for k, v in raw.items()}


def _build_query(
    label: str, qname: str, spec: QuerySpec, raw: Any, converters: dict[str, tuple[Converter, Any]]
) -> Query:
    where = f"{label}: query '{qname}'"
    if not isinstance(raw, dict) or not isinstance(raw.get("sql"), str):
        raise MappingError(f"{where}: needs 'sql' text")
    sql_text = raw["sql"].strip().rstrip(";")
    if not re.match(r"(?is)^\s*(select|with)\b", sql_text) or ";" in sql_text:
        raise MappingError(f"{where}: must be one SELECT statement")
    sql, order = parse_sql(sql_text)
    wanted = list(spec.params)
    if len(set(order)) != len(wanted):
        raise MappingError(
            f"{where}: wrong parameter count: expects {len(wanted)} ({', '.join(':' + w for w in wanted)}), "
            f"SQL has {len(set(order))}"
        )
    unknown = [p for p in order if p not in wanted]
    if unknown:
        raise MappingError(
            f"{where}: unknown parameter ':{unknown[0]}' (expects {', '.join(':' + w for w in wanted)})"
        )
    cols = raw.get("columns")
    if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols):
        raise MappingError(f"{where}: needs 'columns' (a list of names)")
    cols = [c.lower() for c in cols]
    for c in cols:
        if c not in spec.columns:
            raise MappingError(f"{where}: unknown column '{c}'")
    for c in spec.columns:
        if c not in cols:
            raise MappingError(f"{where}: column '{c}' is missing")
    convs: dict[str, Converter] = {}
    frame_convs: dict[str, tuple[str, Any]] = {}
    for col, cname in (raw.get("convert") or {}).items():
        if col not in spec.columns:
            raise MappingError(f"{where}: converter for unknown column '{col}'")
        if cname not in converters:
            raise MappingError(f"{where}: unknown converter '{cname}' for column '{col}'")
        convs[col], frame_convs[col] = converters[cname]
    return Query(qname, sql, order, list(spec.columns), spec, convs, frame_convs)
