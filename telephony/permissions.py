"""What an AMI user may do: the ``write =`` classes of ``manager.conf`` each action needs, as Asterisk 22
registers them, and Asterisk's own refusal texts.

Asterisk checks an action against the user's *write* classes (``main/manager.c`` ``process_message``:
``session->writeperm & action->authority``, else ``Response: Error`` / ``Message: Permission denied``).
``QueuePause`` is registered by app_queue under ``EVENT_FLAG_AGENT``, ``Originate`` under
``EVENT_FLAG_ORIGINATE``, ``CoreShowChannels`` under ``EVENT_FLAG_SYSTEM | EVENT_FLAG_REPORTING``;
``QueueStatus``, ``Ping``, ``Events``, ``Login`` and ``Logoff`` need none. While it shuts down, Asterisk
answers every action, ``Login`` included, with ``Message: Asterisk is shutting down``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telephony.errors import AsteriskShuttingDown, PermissionDenied

log = logging.getLogger("telephony.ami")

PERMISSION_DENIED = "Permission denied"
SHUTTING_DOWN = "Asterisk is shutting down"

# action -> write classes of which the user needs at least one (empty: anyone logged in)
ACTION_WRITE_CLASSES: dict[str, tuple[str, ...]] = {
    "queuepause": ("agent",),
    "originate": ("originate",),
    "coreshowchannels": ("system", "reporting"),
    "queuestatus": (),
    "queuesummary": (),
    "ping": (),
    "events": (),
}
ALL_CLASSES = frozenset(
    {"system", "call", "log", "verbose", "command", "agent", "user", "config", "dtmf", "reporting"}
    | {"cdr", "dialplan", "originate", "agi", "cc", "aoc", "test", "security", "message"}
)

# what the workstation's AMI user needs (telephony/README.md)
REQUIRED_READ = "system,call,agent,reporting"
REQUIRED_WRITE = "system,call,agent,originate,reporting"


def parse_classes(spec: str) -> frozenset[str]:
    """A ``manager.conf`` ``read =`` / ``write =`` value (``system,call``, ``all``) as a set of classes."""
    names = {p.strip().lower() for p in (spec or "").split(",") if p.strip()}
    return ALL_CLASSES if "all" in names else frozenset(names)


def allowed(action: str, write: frozenset[str]) -> bool:
    """Whether a user with these write classes may send ``action`` (unknown actions: yes)."""
    need = ACTION_WRITE_CLASSES.get(action.lower(), ())
    return not need or bool(write & set(need))


def needed(action: str) -> str:
    """The write class(es) ``action`` needs, for an error message: ``agent``, ``system or reporting``."""
    return " or ".join(ACTION_WRITE_CLASSES.get(action.lower(), ())) or "none"


# QueuePause of an interface no queue has: "Interface not found" when allowed, "Permission denied" if not;
# Originate without Channel: "Channel not specified" when allowed. Neither changes anything on the PBX.
PROBE_INTERFACE = "Local/permission-check@workstation/n"
PROBES = (
    ("ami_write_agent", {"Action": "QueuePause", "Interface": PROBE_INTERFACE, "Paused": "false"}),
    ("ami_write_originate", {"Action": "Originate"}),
)


def problem_id(action: str) -> str:
    """``ami_write_agent`` for QueuePause, ``ami_write_system`` for CoreShowChannels…"""
    return f"ami_write_{needed(action).split()[0]}"


async def probe_permissions(
    ask: Callable[[dict[str, str]], Awaitable[dict[str, str]]], who: str
) -> dict[str, str]:
    """Ask, without side effects, the actions the workstation needs; returns {problem id: what to fix}
    for each one Asterisk refuses, each logged once as one line naming the missing permission."""
    problems: dict[str, str] = {}
    for problem, action in PROBES:
        resp = await ask(dict(action))
        if resp.get("Message") == PERMISSION_DENIED:
            err = PermissionDenied(action["Action"], needed(action["Action"]))
            problems[problem] = str(err)
            log.error("%s: %s", who, err)
    return problems


def raise_refusal(action: str, resp: dict[str, str], problems: dict[str, str]) -> None:
    """Raise the error Asterisk's refusal names (a missing permission is also recorded in ``problems``);
    any other refusal is logged with Asterisk's reason and left to the caller."""
    message = resp.get("Message") or ""
    if message == PERMISSION_DENIED:
        err = PermissionDenied(action, needed(action))
        problems[problem_id(action)] = str(err)
        log.error("%s", err)
        raise err
    if message == SHUTTING_DOWN:
        raise AsteriskShuttingDown(f"{action} refused: {message}")
    log.warning("Asterisk refused %s: %s", action, message[:200])
