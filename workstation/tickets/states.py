"""The ticket state machine: which action moves a ticket from which state to which.

::

    new ──assign──▶ assigned ──start──▶ in_progress ──wait──▶ waiting
     │                 │  ▲                 │   ▲                │
     └──────take───────┴──┼────────────────▶│   └────resume──────┘
                          │ release         ├──resolve──▶ resolved ──close──▶ closed
                          ◀─────────────────┘               │                  │
                        (back to new)          waiting ─resolve─┘    reopen ◀──┘ (→ new)

An action not allowed from the current state is refused with a reason the user can act on
(HTTP 409): nothing changes.
"""

from __future__ import annotations

from workstation.errors import Conflict

STATES = ("new", "assigned", "in_progress", "waiting", "resolved", "closed")
OPEN_STATES = ("new", "assigned", "in_progress", "waiting")
# states in which a ticket belongs to an engineer
HELD_STATES = ("assigned", "in_progress", "waiting")

TRANSITIONS: dict[str, dict[str, str]] = {
    "assign": {"new": "assigned"},
    "take": {"new": "in_progress", "assigned": "in_progress"},
    "start": {"assigned": "in_progress"},
    "release": {"assigned": "new", "in_progress": "new", "waiting": "new"},
    "wait": {"in_progress": "waiting"},
    "resume": {"waiting": "in_progress"},
    "resolve": {"in_progress": "resolved", "waiting": "resolved"},
    "close": {"resolved": "closed"},
    "reopen": {"resolved": "new", "closed": "new"},
}

ACTIONS = tuple(TRANSITIONS)

_HINTS = {
    "resolve": "take the ticket first",
    "wait": "take the ticket first",
    "close": "resolve the ticket first",
    "reopen": "only resolved or closed tickets can be reopened",
    "take": "someone else has it already, or it is finished",
    "assign": "only tickets in the queue can be assigned",
    "resume": "only a ticket waiting for the subscriber can be resumed",
}


class InvalidTransition(Conflict):
    error_id = "invalid_transition"


def next_state(state: str, action: str) -> str:
    """The state after ``action``; raises InvalidTransition (409) with the reason when not allowed."""
    if action not in TRANSITIONS:
        raise InvalidTransition(
            f"unknown action {action!r}", error_id="unknown_action", details={"allowed": list(ACTIONS)}
        )
    target = TRANSITIONS[action].get(state)
    if target is None:
        hint = _HINTS.get(action, "")
        raise InvalidTransition(
            f"cannot {action} a ticket that is {state.replace('_', ' ')}" + (f": {hint}" if hint else ""),
            details={"state": state, "action": action, "allowed_from": sorted(TRANSITIONS[action])},
        )
    return target


def allowed_actions(state: str) -> list[str]:
    """Actions possible from ``state`` (the UI shows only these buttons)."""
    return [a for a, moves in TRANSITIONS.items() if state in moves]
