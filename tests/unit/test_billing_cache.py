"""The cached front over a controllable billing: coalescing, TTLs, unknown numbers, breaker, stale cards."""

from __future__ import annotations

import asyncio

import pytest

from billing_adapter.cache import CachedBilling
from billing_adapter.memory import MemorySource, make_card
from billing_adapter.ports import BillingError
from billing_adapter.resilience import CircuitBreaker
from billing_adapter.stores import MemoryStore
from tests.support.clock import ManualClock


class ControlledBilling(MemorySource):
    """A memory source whose calls can be held (a hanging billing) or fail (a dead one)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate: asyncio.Event | None = None
        self.calls: list[str] = []

    async def _wait(self, what: str) -> None:
        self.calls.append(what)
        if self.gate is not None:
            await self.gate.wait()

    async def find_by_msisdn(self, msisdn: str):  # type: ignore[no-untyped-def]
        await self._wait("find")
        return await super().find_by_msisdn(msisdn)

    async def card(self, subscriber_id: str):  # type: ignore[no-untyped-def]
        await self._wait("card")
        return await super().card(subscriber_id)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_000_000.0)


@pytest.fixture
def billing() -> ControlledBilling:
    b = ControlledBilling()
    b.add(make_card("1", "79161234567", name="Иванов Иван Иванович", balance=-50.0))
    b.add(make_card("2", "79030000002", name="Петров Пётр"), "79030000003")
    b.add(make_card("3", "79030000003", name="Петрова Анна"))
    return b


def _front(source: ControlledBilling, clock: ManualClock, **kw: object) -> CachedBilling:
    kw.setdefault("breaker", CircuitBreaker(failure_threshold=2, reset_after_s=10, clock=clock))
    return CachedBilling(source, MemoryStore(), clock=clock, answer_within_s=0.3, **kw)  # type: ignore[arg-type]


async def test_concurrent_lookups_of_one_caller_make_one_billing_query(
    billing: ControlledBilling, clock: ManualClock
) -> None:
    front = _front(billing, clock)
    billing.gate = asyncio.Event()
    lookups = [asyncio.ensure_future(front.lookup_caller("8 916 123-45-67")) for _ in range(25)]
    while not billing.calls:
        await asyncio.sleep(0.01)
    billing.gate.set()
    results = await asyncio.gather(*lookups)
    assert {r.state for r in results} == {"found"}
    assert billing.calls == ["find", "card"]
    assert results[0].card is not None
    assert results[0].card.balance == -50.0


async def test_warm_card_comes_from_cache_until_the_balance_ttl_passes(
    billing: ControlledBilling, clock: ManualClock
) -> None:
    front = _front(billing, clock, balance_ttl_s=15, profile_ttl_s=300)
    first = await front.lookup_caller("+79161234567")
    assert first.freshness is not None
    assert first.freshness.source == "billing"
    clock.now += 10
    warm = await front.lookup_caller("79161234567")
    assert warm.freshness is not None
    assert (warm.freshness.source, warm.freshness.age_s) == ("cache", 10.0)
    assert billing.calls == ["find", "card"]
    clock.now += 10  # balance now 20 s old: fetched again, the number->subscriber entry is still fresh
    again = await front.lookup_caller("79161234567")
    assert again.freshness is not None
    assert again.freshness.source == "billing"
    assert billing.calls == ["find", "card", "card"]


async def test_unknown_number_is_remembered_briefly(billing: ControlledBilling, clock: ManualClock) -> None:
    front = _front(billing, clock, unknown_ttl_s=30)
    assert (await front.lookup_caller("79990000000")).state == "unknown"
    assert (await front.lookup_caller("79990000000")).state == "unknown"
    assert billing.calls == ["find"]
    clock.now += 31
    await front.lookup_caller("79990000000")
    assert billing.calls == ["find", "find"]


async def test_one_number_on_two_accounts_gives_a_short_list(
    billing: ControlledBilling, clock: ManualClock
) -> None:
    found = await _front(billing, clock).lookup_caller("79030000003")
    assert found.state == "multiple"
    assert sorted(m.name for m in found.matches) == ["Петров Пётр", "Петрова Анна"]


async def test_caller_id_with_letters_is_a_bad_number_without_asking_billing(
    billing: ControlledBilling, clock: ManualClock
) -> None:
    found = await _front(billing, clock).lookup_caller("anonymous")
    assert found.state == "bad_number"
    assert billing.calls == []


async def test_dead_billing_with_nothing_cached_is_unavailable(
    billing: ControlledBilling, clock: ManualClock
) -> None:
    billing.down = True
    found = await _front(billing, clock).lookup_caller("79161234567")
    assert found.state == "unavailable"
    assert found.freshness is not None
    assert found.freshness.billing_state == "unavailable"


async def test_dead_billing_serves_the_cached_card_marked_stale_with_its_age(
    billing: ControlledBilling, clock: ManualClock
) -> None:
    front = _front(billing, clock)
    await front.lookup_caller("79161234567")
    billing.down = True
    clock.now += 3600
    found = await front.lookup_caller("79161234567")
    assert found.state == "found"
    assert found.card is not None
    assert found.card.name == "Иванов Иван Иванович"
    assert found.freshness is not None
    assert (found.freshness.stale, found.freshness.billing_state, found.freshness.age_s) == (
        True,
        "unavailable",
        3600.0,
    )


async def test_hanging_billing_still_pops_from_cache_and_fills_it_when_it_answers(
    billing: ControlledBilling, clock: ManualClock
) -> None:
    front = _front(billing, clock)
    await front.lookup_caller("79161234567")
    clock.now += 600
    billing.gate = asyncio.Event()  # billing now hangs
    found = await front.lookup_caller("79161234567")
    assert found.state == "found"
    assert found.freshness is not None
    assert found.freshness.stale
    billing.gate.set()  # the late answer lands in the cache
    while front._inflight:
        await asyncio.sleep(0.01)
    assert billing.calls == ["find", "card", "find"]  # the failed pop did not ask billing for the card too
    again = await front.lookup_caller("79161234567")
    assert again.freshness is not None
    assert not again.freshness.stale
    assert again.freshness.billing_state == "ok"


async def test_breaker_opens_after_failures_then_half_open_probe_closes_it(
    billing: ControlledBilling, clock: ManualClock
) -> None:
    front = _front(billing, clock)
    billing.down = True
    for number in ("79161234567", "79030000002"):
        assert (await front.lookup_caller(number)).state == "unavailable"
    assert front.breaker.state == "open"
    before = billing.queries
    assert (await front.lookup_caller("79161234567")).state == "unavailable"
    assert billing.queries == before  # open: billing is not asked at all
    assert (await front.health())["breaker"]["state"] == "open"  # type: ignore[index]
    clock.now += 11
    assert front.breaker.state == "half_open"
    billing.down = False
    assert (await front.lookup_caller("79161234567")).state == "found"
    assert front.breaker.state == "closed"


async def test_failed_probe_opens_the_breaker_again(billing: ControlledBilling, clock: ManualClock) -> None:
    front = _front(billing, clock)
    billing.down = True
    for number in ("79161234567", "79030000002"):
        await front.lookup_caller(number)
    clock.now += 11
    await front.lookup_caller("79161234567")
    assert front.breaker.state == "open"


async def test_invalidate_drops_the_card_but_not_the_number(
    billing: ControlledBilling, clock: ManualClock
) -> None:
    front = _front(billing, clock)
    await front.lookup_caller("79161234567")
    await front.invalidate("1")
    await front.lookup_caller("79161234567")
    assert billing.calls == ["find", "card", "card"]


async def test_search_and_drill_down_fail_clearly_when_the_breaker_is_open(
    billing: ControlledBilling, clock: ManualClock
) -> None:
    front = _front(billing, clock)
    billing.down = True
    for number in ("79161234567", "79030000002"):
        await front.lookup_caller(number)
    with pytest.raises(BillingError):
        await front.search("Иванов")
    with pytest.raises(BillingError):
        await front.charges("1")


def test_cache_freshness_comes_from_settings() -> None:
    from workstation.adapters import make_cached
    from workstation.settings import load_settings

    settings = load_settings(billing_balance_ttl_s=5, billing_profile_ttl_s=120, billing_answer_within_s=0.5)
    front = make_cached(MemorySource(), settings)
    assert (front.balance_ttl_s, front.profile_ttl_s, front.answer_within_s) == (5, 120, 0.5)
    import pytest

    from workstation.settings import SettingsError

    with pytest.raises(SettingsError, match="WORKSTATION_BILLING_BALANCE_TTL_S"):
        load_settings(billing_balance_ttl_s=0)
