"""One id per server process: its bus messages, its floor key in Redis and its link-health reports name
the same node, so a supervisor's "which node" and the logs agree."""

from __future__ import annotations

from typing import Any

from tests.apphelpers import make_container


def test_bus_floor_and_link_health_name_the_same_node(
    tmp_path: Any, redis_url: str, redis_prefix: str
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = make_container(
        tmp_path / "a", bus_url=redis_url, cache_url=redis_url, redis_prefix=redis_prefix, features=()
    )
    b = make_container(
        tmp_path / "b", bus_url=redis_url, cache_url=redis_url, redis_prefix=redis_prefix, features=()
    )
    node_a = a.bus.node  # type: ignore[attr-defined]
    assert a.floor.node == node_a == a.calls.link_health.node
    assert a.floor.key.endswith(":" + node_a)
    assert b.floor.node == b.bus.node != node_a  # type: ignore[attr-defined]
    a.db.dispose()
    b.db.dispose()
