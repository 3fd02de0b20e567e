"""The reports' times and exactness for ``benchmarks/kpis.py``: N generated calls stored with ``COPY``, the day
and week reports timed cold and warm, and every figure checked against numpy over the generated arrays."""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from screen_pop_deploy import log  # noqa: E402
from screen_pop_setup import (  # noqa: E402
    add_operators,
    create_pg_database,
    drop_pg_database,
)

from workstation.kpis import rollup  # noqa: E402

QUEUES = {"support": 20, "vip": 10, "billing": 30, "roaming": 20, "sales": 60}
FIGURES = (
    "offered",
    "answered",
    "answered_in_sl",
    "abandoned",
    "abandoned_short",
    "asa_s",
    "avg_talk_s",
    "avg_acw_s",
    "service_level_pct",
)


class Generated:
    """N calls as numpy arrays: what is stored, and what the figures must be."""

    def __init__(self, n: int, days: int, operators: list[int], seed: int = 5) -> None:
        rng = np.random.default_rng(seed)
        self.day0 = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
        self.n = n
        self.start = self.day0.timestamp() + np.sort(rng.integers(0, days * 86400, n)).astype(np.float64)
        self.queue = rng.integers(0, len(QUEUES), n)
        self.answered = rng.random(n) < 0.85
        self.wait = np.where(self.answered, rng.integers(0, 90, n), rng.integers(0, 120, n))
        self.talk = rng.integers(10, 900, n)
        self.acw = rng.integers(0, 240, n)
        self.acw_known = self.answered & (rng.random(n) < 0.95)
        self.operator = np.array(operators)[rng.integers(0, len(operators), n)]
        self.outcome = rng.integers(0, 4, n)  # 0 none, 1 resolved, 2 escalated, 3 callback

    def expected(self, lo: float, hi: float, queue: int) -> dict[str, float | None]:
        m = (self.start >= lo) & (self.start < hi) & (self.queue == queue)
        thr = list(QUEUES.values())[queue]
        ans, gone = m & self.answered, m & ~self.answered
        met, long_gone = ans & (self.wait <= thr), gone & (self.wait > 5)
        out: dict[str, float | None] = {
            "offered": int(m.sum()),
            "answered": int(ans.sum()),
            "answered_in_sl": int(met.sum()),
            "abandoned": int(long_gone.sum()),
            "abandoned_short": int((gone & (self.wait <= 5)).sum()),
        }
        base = out["answered"] + out["abandoned"]  # type: ignore[operator]
        out["service_level_pct"] = round(100 * out["answered_in_sl"] / base, 1) if base else None  # type: ignore[operator]
        out["asa_s"] = round(float(self.wait[ans].mean()), 1) if ans.any() else None
        out["avg_talk_s"] = round(float(self.talk[ans].mean()), 1) if ans.any() else None
        acw = m & self.acw_known
        out["avg_acw_s"] = round(float(self.acw[acw].mean()), 1) if acw.any() else None
        return out


def copy_in(cur: Any, sql: str, buf: io.StringIO) -> None:
    """``COPY … FROM STDIN`` of what ``buf`` holds, in 1 MiB chunks."""
    buf.seek(0)
    with cur.copy(sql) as cp:
        while chunk := buf.read(1 << 20):
            cp.write(chunk)


def store(db_url: str, g: Generated) -> None:
    """COPY the calls, request records and the operators' state log into PostgreSQL."""
    import psycopg

    names = list(QUEUES)
    iso = lambda t: datetime.fromtimestamp(t, UTC).isoformat()  # noqa: E731
    dsn = db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as con, con.cursor() as cur:
        buf = io.StringIO()
        for i in range(g.n):
            st = g.start[i]
            ans = bool(g.answered[i])
            answered_at = iso(st + g.wait[i]) if ans else "\\N"
            ended = st + g.wait[i] + (g.talk[i] if ans else 0)
            acw = str(int(g.acw[i])) if g.acw_known[i] else "\\N"
            buf.write(
                f"C{i}\t+7916{i % 10_000_000:07d}\t{names[g.queue[i]]}\t{'ended' if ans else 'abandoned'}\t"
                f"{g.operator[i] if ans else chr(92) + 'N'}\t{iso(st)}\t{iso(st)}\t{answered_at}\t{iso(ended)}\t{iso(st)}\t"
                f"{int(g.wait[i])}\t{int(g.talk[i]) if ans else chr(92) + 'N'}\t{acw}\t1\n"
            )
        copy_in(
            cur,
            "COPY calls (id, caller, queue, state, operator_id, queued_at, started_at, answered_at, ended_at, created_at, wait_s, talk_s, acw_s, offers) FROM STDIN",
            buf,
        )
        outcomes = {1: "resolved", 2: "escalated", 3: "callback"}
        buf = io.StringIO()
        for i in np.nonzero(g.answered & (g.outcome > 0))[0]:
            buf.write(
                f"C{i}\t{g.operator[i]}\t\tfinished\t{outcomes[int(g.outcome[i])]}\t[]\tf\tf\t{{}}\t{iso(g.start[i])}\n"
            )
        copy_in(
            cur,
            "COPY request_records (call_id, operator_id, note, status, outcome, suggestions, abstained, note_truncated, context, created_at) FROM STDIN",
            buf,
        )
        buf = io.StringIO()
        for i in np.nonzero(g.answered)[0]:
            a = g.start[i] + g.wait[i]
            e = a + g.talk[i]
            w = e + g.acw[i]
            op = g.operator[i]
            buf.write(
                f"{op}\ton_call\t{iso(a)}\t{iso(e)}\n{op}\twrap_up\t{iso(e)}\t{iso(w)}\n{op}\tready\t{iso(w)}\t{iso(w + 30)}\n"
            )
        copy_in(cur, "COPY agent_states (user_id, state, started_at, ended_at) FROM STDIN", buf)
        buf = io.StringIO()
        for (slot, queue, op), values in rolled_up(g).items():
            cells = "\t".join(str(values.get(c, 0)) for c in rollup.COLUMNS)
            buf.write(f"{datetime.fromtimestamp(slot, UTC).isoformat()}\t{queue}\t{op}\t{cells}\n")
        copy_in(
            cur, f"COPY kpi_hourly (slot, queue, operator_id, {', '.join(rollup.COLUMNS)}) FROM STDIN", buf
        )
        cur.execute("ANALYZE calls; ANALYZE request_records; ANALYZE agent_states; ANALYZE kpi_hourly")
        con.commit()


def rolled_up(g: Generated) -> dict[tuple[int, str, int], dict[str, float]]:
    """The hourly roll-up as the KPI service builds it (its own functions, one call at a time), summed."""
    from workstation.kpis import formulas as f

    rules = f.Rules(threshold_s=20, queue_thresholds=QUEUES, short_abandon_s=5)
    names = list(QUEUES)
    acc: dict[tuple[int, str, int], dict[str, float]] = {}

    def add(rows: list[list[Any]]) -> None:
        for slot, queue, op, values in rows:
            cell = acc.setdefault((slot, queue, op), {})
            for k, v in values.items():
                cell[k] = cell.get(k, 0) + v

    for i in range(g.n):
        st, ans = float(g.start[i]), bool(g.answered[i])
        fact = f.Fact(f"C{i}", st, names[g.queue[i]], wait_s=int(g.wait[i]), abandoned=not ans)
        if ans:
            fact.operator_id, fact.answered_at = int(g.operator[i]), st + int(g.wait[i])
            fact.talk_s, fact.ended_at = int(g.talk[i]), st + int(g.wait[i]) + int(g.talk[i])
            fact.acw_s = int(g.acw[i]) if g.acw_known[i] else None
            a, e = fact.answered_at, fact.ended_at
            w = e + int(g.acw[i])
            for state, lo, hi in (("on_call", a, e), ("wrap_up", e, w), ("ready", w, w + 30)):
                add(rollup.state_seconds(fact.operator_id, state, lo, hi))
            if g.outcome[i] > 0:
                fcr = {"fcr_total": 1, "fcr_resolved": int(g.outcome[i] == 1)}
                add([[rollup.hour(st), fact.queue, 0, fcr], [rollup.hour(st), "", fact.operator_id, fcr]])
        else:
            fact.ended_at = st + int(g.wait[i])
        add(rollup.deltas(None, rollup.keys_of(fact), rollup.vector(fact, rules)))
    return acc


def overlap(lo: np.ndarray, hi: np.ndarray, a: float, b: float) -> float:
    """Total seconds of the intervals [lo, hi) that fall inside [a, b)."""
    return float(np.clip(np.minimum(hi, b) - np.maximum(lo, a), 0, None).sum())


def timed(fn: Any) -> tuple[float, float, Any]:
    t = time.perf_counter()
    out = fn()
    cold = time.perf_counter() - t
    warm = []
    for _ in range(3):
        t = time.perf_counter()
        out = fn()
        warm.append(time.perf_counter() - t)
    return cold, statistics.median(warm), out


def reports_bench(args: argparse.Namespace) -> dict[str, Any]:
    from workstation.db import Database
    from workstation.kpis import reports
    from workstation.kpis.formulas import Rules
    from workstation.migrate import upgrade

    pg_url = create_pg_database()
    try:
        upgrade(pg_url)
        ops = [uid for uid, _, _ in add_operators(pg_url, 500)]
        g = Generated(args.calls, args.days, ops)
        t = time.perf_counter()
        store(pg_url, g)
        log(f"reports: {args.calls} calls stored in {time.perf_counter() - t:.1f} s")
        db = Database(pg_url)
        rules = Rules(threshold_s=20, queue_thresholds=QUEUES, short_abandon_s=5, abandoned="missed")
        day = g.day0 + timedelta(days=3)
        week = g.day0 + timedelta(days=7)

        def run(a: Any, b: Any, bucket: str, group: str) -> Any:
            return lambda: reports.report(db, rules, a, b, bucket=bucket, group=group, tz="UTC")

        day_cold, day_s, day_rows = timed(run(day, day + timedelta(days=1), "hour", "queue"))
        week_cold, week_s, week_rows = timed(run(week, week + timedelta(days=7), "day", "queue"))
        wop_cold, wop_s, wop_rows = timed(run(week, week + timedelta(days=7), "day", "operator"))

        # the baseline, side by side: the same week counted straight from the call facts
        def recount() -> Any:
            return reports.recount(
                db, rules, week, week + timedelta(days=7), bucket="day", group="queue", tz="UTC"
            )

        rc_cold, rc_s, rc_rows = timed(recount)
        assert [{k: r[k] for k in FIGURES} for r in rc_rows] == [
            {k: r[k] for k in FIGURES} for r in week_rows
        ]
        errors: dict[str, float] = dict.fromkeys(FIGURES, 0.0)
        names = list(QUEUES)
        checked = 0
        for rows, step in ((day_rows, 3600), (week_rows, 86400)):
            for r in rows:
                lo = datetime.strptime(r["bucket"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()
                want = g.expected(lo, lo + step, names.index(r["key"]))
                for k in FIGURES:
                    a, b = r[k], want[k]
                    errors[k] = max(
                        errors[k], abs(a - b) if a is not None and b is not None else float(a != b)
                    )
                checked += 1
        # per operator: calls answered and first-contact resolution, over the whole week
        lo, hi = week.timestamp(), (week + timedelta(days=7)).timestamp()
        in_week = (g.start >= lo) & (g.start < hi) & g.answered
        by_op: dict[int, list[int]] = {}
        for r in wop_rows:
            acc = by_op.setdefault(r["key"], [0, 0])
            acc[0] += r["answered_all"]
        fcr_err = 0.0
        for r in wop_rows:
            b_lo = datetime.strptime(r["bucket"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()
            m = (g.start >= b_lo) & (g.start < b_lo + 86400) & g.answered & (g.operator == r["key"])
            recs = m & (g.outcome > 0)
            want = round(100 * int((m & (g.outcome == 1)).sum()) / int(recs.sum()), 1) if recs.any() else None
            fcr_err = max(
                fcr_err,
                abs(r["fcr_pct"] - want)
                if want is not None and r["fcr_pct"] is not None
                else float(want != r["fcr_pct"]),
            )
        answered_err = max(abs(v[0] - int((in_week & (g.operator == op)).sum())) for op, v in by_op.items())
        errors["fcr_pct"] = fcr_err
        errors["operator_answered"] = float(answered_err)
        # occupancy per operator and day from the states as stored (on call, after-call work, 30 s ready),
        # each state's overlap with the day computed here with numpy
        a = g.start + g.wait
        e = a + g.talk
        w = e + g.acw
        occ_err = 0.0
        for r in wop_rows:
            d_lo = datetime.strptime(r["bucket"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()
            m = g.answered & (g.operator == r["key"])
            busy = float(overlap(a[m], w[m], d_lo, d_lo + 86400))
            ready = float(overlap(w[m], w[m] + 30, d_lo, d_lo + 86400))
            want = round(100 * busy / (busy + ready), 1) if busy + ready else None
            got = r["occupancy_pct"]
            occ_err = max(
                occ_err, abs(got - want) if got is not None and want is not None else float(got != want)
            )
        errors["occupancy_pct"] = occ_err
        db.dispose()
        return {
            "stored_calls": args.calls,
            "stored_days": args.days,
            "day_report_s": round(day_s, 3),
            "day_report_cold_s": round(day_cold, 3),
            "week_report_s": round(week_s, 3),
            "week_report_cold_s": round(week_cold, 3),
            "week_operator_report_s": round(wop_s, 3),
            "week_operator_report_cold_s": round(wop_cold, 3),
            "week_recount_from_facts_s": round(rc_s, 3),
            "week_recount_from_facts_cold_s": round(rc_cold, 3),
            "week_calls": int(((g.start >= lo) & (g.start < hi)).sum()),
            "report_rows_checked": checked,
            "errors": {k: round(v, 3) for k, v in errors.items()},
        }
    finally:
        drop_pg_database(pg_url)
