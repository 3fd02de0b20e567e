"""The ticket state machine refuses impossible actions with a reason."""

from __future__ import annotations

import pytest

from workstation.tickets.states import InvalidTransition, allowed_actions, next_state


@pytest.mark.parametrize(
    ("state", "action", "target"),
    [
        ("new", "take", "in_progress"),
        ("new", "assign", "assigned"),
        ("assigned", "start", "in_progress"),
        ("in_progress", "wait", "waiting"),
        ("waiting", "resume", "in_progress"),
        ("waiting", "resolve", "resolved"),
        ("in_progress", "release", "new"),
        ("resolved", "close", "closed"),
        ("closed", "reopen", "new"),
    ],
)
def test_allowed_moves(state: str, action: str, target: str) -> None:
    assert next_state(state, action) == target


def test_resolving_a_ticket_nobody_took_is_a_conflict_with_a_hint() -> None:
    with pytest.raises(InvalidTransition) as exc:
        next_state("new", "resolve")
    assert exc.value.status == 409
    assert "take the ticket first" in exc.value.message
    assert exc.value.details["allowed_from"] == ["in_progress", "waiting"]


def test_closed_ticket_cannot_be_taken() -> None:
    with pytest.raises(InvalidTransition):
        next_state("closed", "take")


def test_unknown_action_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="unknown action"):
        next_state("new", "delete")


def test_allowed_actions_list_buttons_for_a_state() -> None:
    assert allowed_actions("resolved") == ["close", "reopen"]
    assert set(allowed_actions("in_progress")) == {"release", "wait", "resolve"}
