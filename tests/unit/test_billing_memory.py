"""The in-memory fake other packages test against answers like the real front."""

from __future__ import annotations

from billing_adapter.memory import MemoryBilling, make_card
from billing_adapter.models import MonthCharges, Payment


async def test_fake_finds_cards_by_any_number_format_and_lists_shared_numbers() -> None:
    b = MemoryBilling()
    b.add(
        make_card("1", "79161234567"),
        charges=[MonthCharges("2026-01", 10.0)],
        payments=[Payment("2026-01-02T10:00:00", 5.0, "card")],
    )
    b.add(make_card("2", "79031112233", name="Петров Пётр"), "79161234567")
    assert (await b.lookup_caller("8 903 111-22-33")).card.name == "Петров Пётр"  # type: ignore[union-attr]
    assert (await b.lookup_caller("+7 916 123 45 67")).state == "multiple"
    assert (await b.lookup_caller("12ab")).state == "bad_number"
    assert (await b.lookup_caller("79990000000")).state == "unknown"
    assert [r.subscriber_id for r in await b.search("петров")] == ["2"]
    assert (await b.charges("1"))[0].total == 10.0
    assert (await b.payments("1"))[0].method == "card"


async def test_fake_goes_down_on_request() -> None:
    b = MemoryBilling()
    b.add(make_card("1"))
    b.down = True
    assert (await b.lookup_caller("79161234567")).state == "unavailable"
    assert (await b.get_card("1")).state == "unavailable"
    assert (await b.health())["ok"] is False
