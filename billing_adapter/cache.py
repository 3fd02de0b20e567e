"""The cached, resilient billing front: a ``BillingSource`` and a ``CardLookupService`` over a real source.

- Per-part freshness: the profile (name, tariff, services…) is fresh for minutes, the balance part
  (balance, credit limit, status) for seconds; an unknown number is remembered briefly.
- Concurrent lookups of the same number / subscriber share one billing call (single flight).
- A circuit breaker stops hammering a dead billing and probes it back.
- A card pop never waits more than ``answer_within_s``: when billing is slow or down it gets what the
  cache has, marked stale with its age, or ``state="unavailable"``. A billing answer that arrives late
  still fills the cache for the next pop.
- With Redis, billing announces changes on ``<prefix>:billing:changed`` (payload: subscriber id) and the
  subscriber's entries are dropped, also from ``NearCache`` (fresh entries kept in process meanwhile).
Logs carry subscriber ids only, never names or numbers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from billing_adapter.card_codec import card_dict as _card_dict
from billing_adapter.card_codec import card_from as _card_from
from billing_adapter.changes import ChangeListener
from billing_adapter.models import Card, CardLookup, Freshness, MonthCharges, Payment, SubscriberRef
from billing_adapter.near_cache import NearCache
from billing_adapter.phones import BadNumber, normalise_msisdn
from billing_adapter.ports import BatchReader, BillingError, BillingSource
from billing_adapter.resilience import CircuitBreaker
from billing_adapter.stores import CacheStore
from billing_adapter.write_behind import WriteBehind

if TYPE_CHECKING:
    import redis.asyncio as aioredis

log = logging.getLogger(__name__)
T = TypeVar("T")
_BALANCE_FIELDS = ("balance", "credit_limit", "status")
# caller IDs repeat (every AMI event of a call, every retry): parse each with phonenumbers once
_normalise = functools.lru_cache(maxsize=65_536)(normalise_msisdn)


class CachedBilling:
    """See the module docstring. ``source`` is the real (uncached) ``BillingSource``."""

    pending_s = 1.0  # how long this process trusts its own just-written cache entries

    def __init__(
        self,
        source: BillingSource,
        store: CacheStore,
        *,
        breaker: CircuitBreaker | None = None,
        profile_ttl_s: float = 300.0,
        balance_ttl_s: float = 15.0,
        unknown_ttl_s: float = 30.0,
        keep_s: float = 24 * 3600.0,
        answer_within_s: float = 0.8,
        redis: aioredis.Redis | None = None,
        prefix: str = "ws",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self.store = store
        self.breaker = breaker or CircuitBreaker()
        self.profile_ttl_s = profile_ttl_s
        self.balance_ttl_s = balance_ttl_s
        self.unknown_ttl_s = unknown_ttl_s
        self.keep_s = keep_s
        self.answer_within_s = answer_within_s
        self.redis = redis  # the shared client (its owner closes it); None: no change notices
        self.channel = f"{prefix}:billing:changed"
        self.clock = clock
        self.billing_calls = 0
        self._inflight: dict[str, asyncio.Task[Any]] = {}
        self._writes = WriteBehind(store, keep_s)  # batched, off the pop's path
        # what this process wrote in the last pending_s: read-your-writes while a write is in flight
        self._pending: dict[str, tuple[float, dict[str, Any]]] = {}
        self._just_loaded: dict[str, dict[str, Any]] = {}  # cards billing has just returned, per subscriber
        self.changes = ChangeListener(redis, self.channel, self.invalidate) if redis is not None else None
        self._near = NearCache()

    # ------------------------------------------------------------------ cache plumbing
    async def _get(self, *keys: str) -> list[dict[str, Any] | None]:
        """The entries of ``keys`` (this process's own writes of the last moment first), one round trip."""
        found: dict[str, dict[str, Any] | None] = {}
        near = self._near_on()
        for key in keys:
            pending = self._pending.get(key)
            if pending is not None and self._just_written(pending):
                found[key] = pending[1]
            elif near and self._fresh(entry := self._near.get(key)):
                found[key] = entry
        missing = [k for k in keys if k not in found]
        if missing:
            epoch = self._near.epoch
            try:
                found.update(zip(missing, await self.store.get_many(*missing), strict=True))
            except Exception as exc:
                log.warning("billing cache read failed: %s", type(exc).__name__)
            for key in missing if near else ():
                if (entry := found.get(key)) is not None and self._fresh(entry):
                    self._near.put(key, entry, since_epoch=epoch)
        return [found.get(k) for k in keys]

    def _near_on(self) -> bool:  # trusted only while change notices arrive (else emptied)
        return self._near.trusted(self.changes is not None and self.changes.listening)

    def _put_later(self, key: str, value: Any, fresh_s: float) -> None:
        """Write to the cache without making the pop wait for it (batched: ``WriteBehind``); until the
        write lands, this process reads the value from ``_pending`` (read-your-writes)."""
        entry = {"t": self.clock(), "fresh": fresh_s, "v": value}
        self._pending[key] = (time.monotonic(), entry)
        if len(self._pending) > 4096:
            self._prune_pending()
        self._writes.put(key, entry)
        if self._near_on():
            self._near.put(key, entry)

    def _just_written(self, pending: tuple[float, dict[str, Any]]) -> bool:
        within = self.pending_s
        return time.monotonic() - pending[0] < within and self.clock() - float(pending[1]["t"]) < within

    def _prune_pending(self) -> None:
        now = time.monotonic()
        for key in [k for k, (t, _) in self._pending.items() if now - t >= self.pending_s]:
            del self._pending[key]

    async def flush(self) -> None:
        """Wait for cache writes still in flight (other nodes see a card once its write has landed)."""
        await self._writes.flush()

    def _fresh(self, entry: dict[str, Any] | None) -> bool:
        return entry is not None and self.clock() - float(entry["t"]) <= float(entry["fresh"])

    def _age(self, *entries: dict[str, Any] | None) -> float:
        ts = [float(e["t"]) for e in entries if e is not None]
        return round(max(0.0, self.clock() - min(ts)), 3) if ts else 0.0

    # ------------------------------------------------------------------ billing calls
    def _call(self, key: str, make: Callable[[], Awaitable[Any]]) -> asyncio.Task[Any]:
        """One billing call per key at a time (single flight), through the breaker."""
        task = self._inflight.get(key)
        if task is not None:
            return task
        if not self.breaker.allow():
            raise BillingError("billing unavailable (circuit open)")
        self.billing_calls += 1
        task = asyncio.ensure_future(self._guarded(make))
        self._inflight[key] = task

        def done(t: asyncio.Task[Any]) -> None:
            self._inflight.pop(key, None)
            if not t.cancelled():
                t.exception()  # retrieved: a late failure is already counted by the breaker

        task.add_done_callback(done)
        return task

    async def _guarded(self, make: Callable[[], Awaitable[Any]]) -> Any:
        try:
            result = await make()
        except BillingError:
            self.breaker.failure()
            raise
        except (TimeoutError, OSError) as exc:  # the link to billing: counts towards the breaker
            self.breaker.failure()
            raise BillingError(f"billing failed: {type(exc).__name__}") from None
        except Exception as exc:
            # a bad request or a bug on our side, not billing being down: the breaker stays as it is, or
            # any user could open it for everyone with a crafted id
            log.warning("billing call failed on our side: %s", type(exc).__name__)
            raise BillingError(
                f"billing request failed: {type(exc).__name__}", error_id="billing_bad_request"
            ) from None
        self.breaker.success()
        return result

    async def _fetch(self, key: str, make: Callable[[], Awaitable[Any]], deadline: float) -> Any:
        """A billing call (shared with concurrent callers) awaited until ``deadline`` at most; the call
        itself goes on after a timeout and fills the cache for the next pop."""
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise TimeoutError
        pending = self._pending.get(key)  # a concurrent caller's call has just landed (its key, its shape)
        if pending is not None and self._just_written(pending):
            return pending[1]["v"]
        task = self._call(key, make)
        done, _ = await asyncio.wait((task,), timeout=remaining)  # the shared call is never cancelled
        if not done:
            raise TimeoutError
        return task.result()

    async def _load_refs(self, msisdn: str) -> list[dict[str, Any]]:
        find_with_card = getattr(self.source, "find_with_card", None)
        card: Card | None = None
        if find_with_card is not None:  # one billing round trip for number + card
            refs, card = await find_with_card(msisdn)
        else:
            refs = await self.source.find_by_msisdn(msisdn)
        value = [dict(r.__dict__) for r in refs]
        self._put_later(f"msisdn:{msisdn}", value, self.profile_ttl_s if refs else self.unknown_ttl_s)
        if card is not None:
            # handed straight to this pop's card lookup: no read-back of what was just written
            self._just_loaded[card.subscriber_id] = self._store_card(card)
            while len(self._just_loaded) > 1024:
                self._just_loaded.pop(next(iter(self._just_loaded)))
        return value

    async def _load_card(self, subscriber_id: str) -> dict[str, Any] | None:
        card = await self.source.card(subscriber_id)
        return None if card is None else self._store_card(card)

    def _store_card(self, card: Card) -> dict[str, Any]:
        profile = _card_dict(card)
        sid = card.subscriber_id
        self._put_later(f"card:{sid}", profile, self.profile_ttl_s)
        self._put_later(f"bal:{sid}", {k: profile[k] for k in _BALANCE_FIELDS}, self.balance_ttl_s)
        return profile

    def _deadline(self) -> float:
        return asyncio.get_running_loop().time() + self.answer_within_s

    # ------------------------------------------------------------------ CardLookupService
    async def lookup_caller(self, raw_caller: str) -> CardLookup:
        if self.changes is not None:
            await self.changes.ensure()
        try:
            msisdn = _normalise(raw_caller)
        except BadNumber as exc:
            return CardLookup(state="bad_number", message=str(exc))
        deadline = self._deadline()
        (entry,) = await self._get(f"msisdn:{msisdn}")
        loaded = failed = False
        if self._fresh(entry):
            refs, mark = entry["v"], self._freshness(entry, False)  # type: ignore[index]
        else:
            loaded = True
            try:
                refs = await self._fetch(f"msisdn:{msisdn}", lambda: self._load_refs(msisdn), deadline)
                mark = self._freshness(None, False)
            except (BillingError, TimeoutError):
                if entry is None:
                    return CardLookup(
                        state="unavailable",
                        msisdn=msisdn,
                        freshness=self._down(0.0),
                        message="billing unavailable",
                    )
                refs, mark, failed = entry["v"], self._down(self._age(entry)), True
        if not refs:
            return CardLookup(state="unknown", msisdn=msisdn, freshness=mark)
        if len(refs) > 1:
            return CardLookup(
                state="multiple",
                msisdn=msisdn,
                matches=[SubscriberRef(**r) for r in refs],
                freshness=mark,
            )
        found = await self._card_lookup(str(refs[0]["subscriber_id"]), deadline, loaded, failed)
        return dataclasses.replace(found, msisdn=msisdn)

    async def get_card(self, subscriber_id: str) -> CardLookup:
        if self.changes is not None:
            await self.changes.ensure()
        return await self._card_lookup(str(subscriber_id), self._deadline())

    async def _card_lookup(
        self, sid: str, deadline: float, just_loaded: bool = False, billing_failed: bool = False
    ) -> CardLookup:
        """``just_loaded``: billing has just answered for this caller (the card came along);
        ``billing_failed``: it has just failed, so do not ask it again within this pop."""
        loaded = self._just_loaded.pop(sid, None) if just_loaded else None
        if loaded is not None:
            return CardLookup(
                state="found",
                card=_card_from(loaded, None),
                freshness=Freshness("billing", 0.0, False, self.breaker.billing_state()),
            )
        profile, balance = await self._get(f"card:{sid}", f"bal:{sid}")
        if self._fresh(profile) and self._fresh(balance):
            age = self._age(profile, balance)
            origin = "billing" if just_loaded and age == 0.0 else "cache"
            return CardLookup(
                state="found",
                card=_card_from(profile["v"], balance["v"]),  # type: ignore[index]
                freshness=Freshness(origin, age, False, self.breaker.billing_state()),
            )
        try:
            if billing_failed:
                raise BillingError("billing failed within this pop")
            value = await self._fetch(f"card:{sid}", lambda: self._load_card(sid), deadline)
        except (BillingError, TimeoutError):
            if profile is None:
                return CardLookup(
                    state="unavailable", freshness=self._down(0.0), message="billing unavailable"
                )
            log.info("billing card %s served stale from cache", sid)
            return CardLookup(
                state="found",
                card=_card_from(profile["v"], balance["v"] if balance else None),
                freshness=self._down(self._age(profile, balance)),
                message="billing unavailable",
            )
        if value is None:
            return CardLookup(
                state="unknown", message="no such subscriber", freshness=self._freshness(None, False)
            )
        return CardLookup(state="found", card=_card_from(value, None), freshness=self._freshness(None, False))

    def _freshness(self, entry: dict[str, Any] | None, stale: bool) -> Freshness:
        if stale:
            return self._down(self._age(entry))
        if entry is None:
            return Freshness("billing", 0.0, False, self.breaker.billing_state())
        return Freshness("cache", self._age(entry), False, self.breaker.billing_state())

    @staticmethod
    def _down(age: float) -> Freshness:
        return Freshness(source="cache", age_s=age, stale=True, billing_state="unavailable")

    # ------------------------------------------------------------------ BillingSource
    async def find_by_msisdn(self, msisdn: str) -> list[SubscriberRef]:
        found = await self.lookup_caller(msisdn)
        if found.state == "unavailable":
            raise BillingError("billing unavailable")
        if found.state == "found" and found.card is not None:
            c = found.card
            return [SubscriberRef(c.subscriber_id, c.name, msisdn, c.account, c.contract, c.status, c.region)]
        return list(found.matches)

    async def card(self, subscriber_id: str) -> Card | None:
        found = await self.get_card(subscriber_id)
        if found.state == "unavailable":
            raise BillingError("billing unavailable")
        return found.card

    async def _passthrough(self, key: str, make: Callable[[], Awaitable[T]]) -> T:
        result: T = await self._call(key, make)
        return result

    async def search(self, query: str, limit: int = 20) -> list[SubscriberRef]:
        return await self._passthrough(f"search:{limit}:{query}", lambda: self.source.search(query, limit))

    async def charges(self, subscriber_id: str, months: int = 6) -> list[MonthCharges]:
        return await self._passthrough(
            f"charges:{subscriber_id}:{months}", lambda: self.source.charges(subscriber_id, months)
        )

    async def payments(self, subscriber_id: str, limit: int = 50) -> list[Payment]:
        return await self._passthrough(
            f"payments:{subscriber_id}:{limit}", lambda: self.source.payments(subscriber_id, limit)
        )

    async def health(self) -> dict[str, object]:
        state = self.breaker.state
        source: dict[str, object] = {"ok": False, "skipped": "circuit open"}
        if state != "open":
            source = await self.source.health()
        return {
            "ok": bool(source.get("ok")),
            "breaker": self.breaker.snapshot(),
            "cache": type(self.store).__name__,
            "source": source,
        }

    def iter_batches(
        self, query_name: str, params: Mapping[str, Any] | None = None, chunk_size: int = 10_000
    ) -> Iterator[Any]:
        """Batches straight from the source (never cached): see ``DbApiBilling.iter_batches``."""
        if not isinstance(self.source, BatchReader):
            raise BillingError("this billing source has no batch reads", error_id="billing_no_batches")
        return self.source.iter_batches(query_name, params, chunk_size)

    async def invalidate(self, subscriber_id: str) -> None:
        """Drop a subscriber's cached card (billing said it changed)."""
        keys = (f"card:{subscriber_id}", f"bal:{subscriber_id}")
        for key in keys:
            self._pending.pop(key, None)
        self._near.drop(*keys)
        self._just_loaded.pop(subscriber_id, None)
        await self.store.delete(*keys)
        log.info("billing cache dropped subscriber %s", subscriber_id)

    async def start(self) -> None:
        """Listen for billing's change notices (Redis only); returns once subscribed."""
        if self.changes is not None:
            await self.changes.start()

    async def close(self) -> None:
        if self.changes is not None:
            await self.changes.close()
        self._writes.cancel()
        for task in list(self._inflight.values()):
            task.cancel()
        await self.store.close()
        await self.source.close()
