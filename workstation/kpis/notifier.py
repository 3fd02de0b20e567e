"""Every payload of the contact-center figures (wallboard frames, alerts), built in one place."""

from __future__ import annotations

from typing import Any

from workstation.kpis.formulas import Rules


def board(snapshot: dict[str, Any], rules: Rules, alerts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``kpis.board``: the figures of every window and queue, the queue now, operators by state."""
    return {
        "type": "kpis.board",
        "v": 1,
        **snapshot,
        "rules": rules.as_dict(),
        "alerts": list(alerts.values()),
    }


def alert(alert_id: str, queue: str, **details: Any) -> dict[str, Any]:
    """A threshold crossed: ``sl_below_target`` (value = service level) or ``long_wait`` (value = seconds)."""
    return {"alert_id": alert_id, "queue": queue, **details}


def alert_message(a: dict[str, Any]) -> dict[str, Any]:
    """``kpis.alert``: the notice raised once to every supervisor when a threshold is crossed."""
    return {"type": "kpis.alert", "v": 1, **a}
