"""Emerging-topic clustering of free-text notes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from classifier.emerging import find_clusters

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def test_similar_notes_form_a_cluster_with_keywords_and_growth() -> None:
    notes = [
        ("не работает есим на часах", 2),
        ("есим на часах не активируется", 3),
        ("часы с есим не видят сеть", 5),
        ("на часах есим пропала", 30),
        ("хочу заказать пиццу", 4),
        ("где ближайший банкомат", 6),
        ("приложение банка не открывается", 7),
        ("есим часы не подключаются", 1),
    ]
    clusters = find_clusters([n for n, _ in notes], [NOW - timedelta(hours=h) for _, h in notes], NOW)
    assert len(clusters) == 1
    c = clusters[0]
    assert sorted(c.members) == [0, 1, 2, 3, 7]
    assert {"есим", "часах"} <= set(c.keywords) or {"есим", "часы"} <= set(c.keywords)
    assert c.recent == 4
    assert c.previous == 1
    assert c.growth == 4.0
    assert len(c.examples) == 3
    assert set(c.examples) <= set(c.members)


def test_word_forms_meet_through_stems() -> None:
    notes = ["переадресация не работает", "переадресацию не включить", "переадресации нет", "погода"]
    clusters = find_clusters(notes, [NOW] * 4, NOW)
    assert len(clusters) == 1
    assert clusters[0].size == 3
    assert clusters[0].growth is None  # nothing in the window before: a new cluster


def test_too_few_or_unusable_notes_give_no_cluster() -> None:
    assert find_clusters([], [], NOW) == []
    assert find_clusters(["😀", "123", "!!"], [NOW] * 3, NOW) == []
    assert find_clusters(["один", "два", "три"], [NOW] * 3, NOW) == []
