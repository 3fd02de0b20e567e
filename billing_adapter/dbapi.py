"""``BillingSource`` over any DB-API driver (sqlite3 for the embedded demo, pyodbc in production), driven
by a mapping file.

Blocking driver calls run in a bounded thread pool (``pool_size`` workers, the same number of pooled
connections at most) so the event loop never blocks. Each call has a timeout (the driver's own query
timeout where it has one, plus an asyncio timeout that interrupts the statement and throws the
connection away). Connections are opened read-only and reused. Only mapped, parameterised statements run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from billing_adapter.lookup import month_range, name_patterns, search_plan
from billing_adapter.mapping import BillingMapping, MappingError, Query
from billing_adapter.models import Card, ChargeItem, MonthCharges, Payment, Service, SubscriberRef
from billing_adapter.ports import BillingError

if TYPE_CHECKING:  # pandas only for the anonymizer's batches: the card path never loads it
    import pandas as pd

log = logging.getLogger(__name__)
T = TypeVar("T")


class Backend:
    """How to open, interrupt and fail with one kind of driver."""

    name = "dbapi"
    errors: tuple[type[BaseException], ...] = (Exception,)
    # the card queries run on the caller's thread (no pool hop) when a lookup is a local read that
    # answers in well under a millisecond and cannot hang (the embedded SQLite file, never a network)
    inline_cards = False

    def connect(self) -> Any:
        raise NotImplementedError

    def interrupt(self, conn: Any, cursor: Any) -> None:
        """Stop a statement running in another thread (best effort)."""

    def describe(self) -> str:
        return self.name


class _Job:
    """State shared between the awaiting coroutine and the worker thread of one call."""

    __slots__ = ("abandoned", "conn", "cursor", "lock")

    def __init__(self) -> None:
        self.conn: Any = None
        self.cursor: Any = None
        self.abandoned = False
        self.lock = threading.Lock()


class DbApiBilling:
    """The mapped billing over a DB-API ``Backend``. Implements ``BillingSource`` and ``iter_batches``."""

    def __init__(
        self,
        backend: Backend,
        mapping: BillingMapping,
        *,
        pool_size: int = 8,
        timeout_s: float = 2.0,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.backend = backend
        self.mapping = mapping
        self.timeout_s = timeout_s
        self.pool_size = max(1, pool_size)
        self.today = today
        self.queries_run = 0
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._executor = ThreadPoolExecutor(max_workers=self.pool_size, thread_name_prefix="billing")
        self._closed = False

    # ------------------------------------------------------------------ plumbing
    def _take(self) -> Any:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self.backend.connect()

    def _give_back(self, conn: Any) -> None:
        if self._closed or self._idle.qsize() >= self.pool_size:
            _close_quietly(conn)
        else:
            self._idle.put(conn)

    def _execute(
        self, job: _Job, query: Query, params: Mapping[str, Any], limit: int | None = None
    ) -> list[dict[str, Any]]:
        cur = job.cursor
        if cur is None:  # one statement handle per job, reused by its queries
            cur = job.cursor = job.conn.cursor()
        cur.execute(query.sql, query.bind(params))
        self.queries_run += 1
        rows = cur.fetchmany(limit) if limit is not None else cur.fetchall()
        return query.convert_rows(cur.description, rows)

    async def _run(self, what: str, fn: Callable[[_Job], T], inline: bool = False) -> T:
        """``fn`` on a pooled connection, in the thread pool; ``inline`` (a card query) on this thread
        when the backend allows it (``Backend.inline_cards``)."""
        if self._closed:
            raise BillingError("billing source is closed")
        job = _Job()

        def work() -> T:
            if job.abandoned:
                raise BillingError("abandoned before start")
            conn = self._take()  # may block (a hanging billing): never under the lock
            with job.lock:
                job.conn = conn
                if job.abandoned:
                    job.conn = None
                    _close_quietly(conn)
                    raise BillingError("abandoned while connecting")
            ok = False
            try:
                result = fn(job)
                ok = True
                return result
            finally:
                with job.lock:
                    if job.cursor is not None:
                        _close_quietly(job.cursor)
                        job.cursor = None
                    conn, job.conn = job.conn, None
                    if ok and not job.abandoned:
                        self._give_back(conn)
                    else:
                        _close_quietly(conn)

        try:
            if inline and self.backend.inline_cards:
                # on a 2-core box under load the hop (worker wake-up, then the GIL back and forth at each
                # statement) cost the pop 5-19 ms; the four card queries themselves take ~0.1 ms
                return work()
            return await self._in_pool(what, job, work)
        except (MappingError, BillingError):
            raise
        except self.backend.errors as exc:
            log.warning("billing %s failed: %s", what, safe_error(exc))
            raise BillingError(f"billing query failed: {safe_error(exc)}") from None

    async def _in_pool(self, what: str, job: _Job, work: Callable[[], T]) -> T:
        """``work`` in the thread pool, abandoned (its query interrupted) past the billing timeout."""
        future = asyncio.get_running_loop().run_in_executor(self._executor, work)
        try:
            done, _ = await asyncio.wait((future,), timeout=self.timeout_s)  # never cancels the worker
            if not done:
                raise TimeoutError
            return future.result()
        except TimeoutError:
            with job.lock:
                job.abandoned = True
                if job.conn is not None:
                    self.backend.interrupt(job.conn, job.cursor)
            future.add_done_callback(_swallow)
            log.warning("billing %s: no answer within %.1f s", what, self.timeout_s)
            raise BillingError(
                f"billing did not answer within {self.timeout_s:g} s", error_id="billing_timeout"
            ) from None

    def _sid(self, subscriber_id: str) -> Any | None:
        sid = str(subscriber_id).strip()
        if self.mapping.subscriber_id_type == "int":
            return int(sid) if sid.isascii() and sid.isdigit() and len(sid) < 19 else None
        return sid or None

    # ------------------------------------------------------------------ BillingSource
    async def find_by_msisdn(self, msisdn: str) -> list[SubscriberRef]:
        q = self.mapping.query("subscriber_by_msisdn")
        rows = await self._run(
            "subscriber_by_msisdn", lambda job: self._execute(job, q, {"msisdn": msisdn}, 50)
        )
        return [_ref(r) for r in rows]

    async def find_with_card(self, msisdn: str) -> tuple[list[SubscriberRef], Card | None]:
        """The screen-pop path in ONE worker hop: the subscribers on a number and, when there is exactly
        one, their card (so a cold pop costs one thread-pool round trip, not two)."""
        q = self.mapping.query("subscriber_by_msisdn")

        def work(job: _Job) -> tuple[list[SubscriberRef], Card | None]:
            refs = [_ref(r) for r in self._execute(job, q, {"msisdn": msisdn}, 50)]
            sid = self._sid(refs[0].subscriber_id) if len(refs) == 1 else None
            return refs, (self._card_in(job, sid) if sid is not None else None)

        return await self._run("subscriber_by_msisdn", work, inline=True)

    def _card_in(self, job: _Job, sid: Any) -> Card | None:
        m_from, m_to = month_range(self.today(), 3, full_only=True)
        rows = self._execute(job, self.mapping.query("card"), {"subscriber_id": sid}, 1)
        if not rows:
            return None
        services = self._execute(job, self.mapping.query("services"), {"subscriber_id": sid})
        arpu = self._execute(
            job, self.mapping.query("arpu"), {"subscriber_id": sid, "month_from": m_from, "month_to": m_to}, 1
        )
        return _card(rows[0], services, arpu[0]["arpu"] if arpu else 0.0)

    async def search(self, query: str, limit: int = 20) -> list[SubscriberRef]:
        plan = search_plan(query)
        if not plan:
            return []

        def work(job: _Job) -> list[SubscriberRef]:
            seen: dict[str, SubscriberRef] = {}
            for qname, params in plan:
                for r in self._execute(job, self.mapping.query(qname), params, limit):
                    seen.setdefault(r["subscriber_id"], _ref(r))
            return list(seen.values())[:limit]

        return await self._run("search", work)

    async def card(self, subscriber_id: str) -> Card | None:
        sid = self._sid(subscriber_id)
        if sid is None:
            return None
        return await self._run("card", lambda job: self._card_in(job, sid), inline=True)

    async def charges(self, subscriber_id: str, months: int = 6) -> list[MonthCharges]:
        sid = self._sid(subscriber_id)
        if sid is None:
            return []
        m_from, m_to = month_range(self.today(), months, full_only=False)
        params = {"subscriber_id": sid, "month_from": m_from, "month_to": m_to}
        q = self.mapping.query("charges")
        rows = await self._run("charges", lambda job: self._execute(job, q, params))
        by_month: dict[str, list[ChargeItem]] = {}
        for r in rows:
            by_month.setdefault(r["month"], []).append(
                ChargeItem(
                    r["category"], r["description"], r["amount"] or 0.0, r["quantity"], r["unit"] or None
                )
            )
        return [
            MonthCharges(month=m, total=round(sum(i.amount for i in items), 2), items=items)
            for m, items in sorted(by_month.items(), reverse=True)
        ]

    async def payments(self, subscriber_id: str, limit: int = 50) -> list[Payment]:
        sid = self._sid(subscriber_id)
        if sid is None:
            return []
        q = self.mapping.query("payments")
        rows = await self._run("payments", lambda job: self._execute(job, q, {"subscriber_id": sid}, limit))
        return [
            Payment(paid_at=r["paid_at"] or "", amount=r["amount"] or 0.0, method=r["method"]) for r in rows
        ]

    async def health(self) -> dict[str, object]:
        def ping(job: _Job) -> None:
            cur = job.conn.cursor()
            try:
                cur.execute(self.mapping.ping)
                cur.fetchall()
            finally:
                _close_quietly(cur)

        try:
            await self._run("ping", ping)
            return {"backend": self.backend.describe(), "mapping": self.mapping.name, "ok": True}
        except BillingError as exc:
            return {
                "backend": self.backend.describe(),
                "mapping": self.mapping.name,
                "ok": False,
                "error": str(exc),
            }

    async def close(self) -> None:
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)
        while True:
            try:
                _close_quietly(self._idle.get_nowait())
            except queue.Empty:
                break

    # ------------------------------------------------------------------ batches (anonymizer, issue 6)
    def iter_batches(
        self, query_name: str, params: Mapping[str, Any] | None = None, chunk_size: int = 10_000
    ) -> Iterator[pd.DataFrame]:
        """Keyset-paginate ``batch_subscribers`` / ``batch_monthly`` by subscriber id in the caller's thread.

        ``params``: ``month_from`` / ``month_to`` ('YYYY-MM') for ``batch_monthly``; ``after_id`` (default 0)
        to resume. A frame: at most ``chunk_size`` subscribers' rows, typed (money float64 in roubles,
        counts int64, dates datetime64, ``month`` 'YYYY-MM'); memory bounded by one page."""
        import pandas as pd

        from billing_adapter.batches import convert_frame

        if query_name not in ("batch_subscribers", "batch_monthly"):
            raise BillingError(f"not a batch query: {query_name}", error_id="billing_bad_query")
        query = self.mapping.query(query_name)
        values = dict(params or {})
        values.setdefault("after_id", 0)
        values["limit"] = int(chunk_size)
        conn = self._take()
        try:
            while True:
                cur = conn.cursor()
                try:
                    cur.execute(query.sql, query.bind(values))
                    rows = cur.fetchall()
                    names = [str(d[0]).lower() for d in cur.description]
                except self.backend.errors as exc:
                    raise BillingError(f"billing {query_name} failed: {safe_error(exc)}") from None
                finally:
                    _close_quietly(cur)
                if not rows:
                    break
                raw = pd.DataFrame.from_records(rows, columns=names)
                values["after_id"] = int(pd.to_numeric(raw["subscriber_id"]).max())
                frame = convert_frame(query, raw)
                if len(frame):
                    yield frame
        finally:
            self._give_back(conn)


def _close_quietly(obj: Any) -> None:
    with contextlib.suppress(Exception):
        obj.close()


def _swallow(fut: Any) -> None:
    if not fut.cancelled():
        fut.exception()


_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\b\d{6,}\b")


def safe_error(exc: BaseException) -> str:
    """The driver's first error line with quoted values and long digit runs masked: a driver may echo a
    bound value (a number, a name) back in its message, and these lines reach logs and the UI."""
    return _QUOTED.sub("…", _first_line(exc))


def _first_line(exc: BaseException) -> str:
    text = str(exc.args[-1] if getattr(exc, "args", None) else exc)
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _name(r: Mapping[str, Any]) -> str:
    return " ".join(p for p in (r["last_name"], r["first_name"], r["middle_name"]) if p)


def _ref(r: Mapping[str, Any]) -> SubscriberRef:
    return SubscriberRef(
        subscriber_id=r["subscriber_id"],
        name=_name(r),
        msisdn=r["msisdn"],
        account=r["account"],
        contract=r["contract"],
        status=r["status"],
        region=r.get("region") or "",
    )


def _card(r: Mapping[str, Any], services: list[dict[str, Any]], arpu: float | None) -> Card:
    return Card(
        subscriber_id=r["subscriber_id"],
        name=_name(r),
        first_name=r["first_name"],
        msisdn=r["msisdn"],
        account=r["account"],
        contract=r["contract"],
        status=r["status"],
        balance=r["balance"] or 0.0,
        credit_limit=r["credit_limit"] or 0.0,
        arpu=round(arpu or 0.0, 2),
        tariff=r["tariff"],
        region=r["region"],
        since=r["since"],
        services=[
            Service(s["code"], s["name"], s["status"], s["monthly_fee"] or 0.0, s["since"]) for s in services
        ],
        extra={"middle_name": r["middle_name"], "last_name": r["last_name"]},
    )


__all__ = ["Backend", "DbApiBilling", "name_patterns"]
