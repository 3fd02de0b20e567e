"""Asterisk channel and interface names: which belong to operators, and their extensions.

Channel names carry a unique suffix (``PJSIP/1001-0000000a``, ``Local/1001@agents-00000007;1``); queue
member interfaces do not (``PJSIP/1001``, ``Local/1001@agents/n``). Both reduce to one *key*
(``PJSIP/1001``, ``Local/1001@agents``) so an event's channel can be matched to a member interface.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_LOCAL_CHANNEL = re.compile(r"^Local/(?P<exten>[^@]+)@(?P<context>.+)-(?P<seq>[0-9a-fA-F]+);(?P<half>[12])$")
_LOCAL_IFACE = re.compile(r"^Local/(?P<exten>[^@]+)@(?P<context>[^/]+)(?:/(?P<opts>.*))?$")
_TECH_CHANNEL = re.compile(r"^(?P<tech>[A-Za-z0-9_]+)/(?P<resource>.+)-(?P<seq>[0-9a-fA-F]+)$")
_EXTENSION = re.compile(r"^\d{2,6}$")

# technologies whose short numeric endpoints are operator phones (trunks have names or long numbers)
PHONE_TECHS = frozenset({"PJSIP", "SIP", "IAX2"})


@dataclass(frozen=True)
class ChannelName:
    """A parsed channel or interface name."""

    key: str  # "Local/1001@agents" or "PJSIP/1001"
    tech: str
    resource: str  # "1001" for PJSIP, "1001@agents" for Local
    context: str | None = None  # Local only
    half: str | None = None  # "1" / "2" for a Local channel half


def parse_name(name: str) -> ChannelName | None:
    """Parse a channel (``PJSIP/1001-0000000a``) or interface (``Local/1001@agents/n``) name."""
    name = (name or "").strip()
    m = _LOCAL_CHANNEL.match(name)
    if m:
        res = f"{m['exten']}@{m['context']}"
        return ChannelName(f"Local/{res}", "Local", res, m["context"], m["half"])
    m = _LOCAL_IFACE.match(name)
    if m:
        res = f"{m['exten']}@{m['context']}"
        return ChannelName(f"Local/{res}", "Local", res, m["context"])
    m = _TECH_CHANNEL.match(name)
    if m and m["tech"] != "Local":
        return ChannelName(f"{m['tech']}/{m['resource']}", m["tech"], m["resource"])
    if "/" in name:
        tech, _, resource = name.partition("/")
        resource = resource.split("/", 1)[0]
        if tech and resource:
            return ChannelName(f"{tech}/{resource}", tech, resource)
    return None


def extension_of(name: str) -> str | None:
    """``Local/1001@agents/n`` → ``1001``; ``PJSIP/1001`` → ``1001``; None when not derivable."""
    parsed = parse_name(name)
    if parsed is None:
        return None
    ext = parsed.resource.split("@", 1)[0]
    return ext or None


def local_interface(dial_string: str) -> str:
    """Interface from a Local ``DialString`` (``1001@agents/n`` or ``Local/1001@agents/n``)."""
    return dial_string if dial_string.startswith("Local/") else f"Local/{dial_string}"


@dataclass
class AgentBook:
    """Knows which channels are operators: queue member interfaces seen (or configured), Local channels
    in the agent contexts, and short numeric PJSIP/SIP/IAX2 endpoints."""

    agent_contexts: frozenset[str] = frozenset({"agents"})
    interfaces: dict[str, str] = field(default_factory=dict)  # key -> interface as configured in Asterisk

    def learn(self, interface: str) -> None:
        parsed = parse_name(interface)
        if parsed is not None and parsed.half is None:
            self.interfaces[parsed.key] = interface

    def is_agent(self, name: str) -> bool:
        parsed = parse_name(name)
        if parsed is None:
            return False
        if parsed.key in self.interfaces:
            return True
        if parsed.tech == "Local":
            return parsed.context in self.agent_contexts
        return parsed.tech in PHONE_TECHS and bool(_EXTENSION.match(parsed.resource))

    def is_agent_extension(self, number: str) -> bool:
        """True when ``number`` is the extension of a known operator interface (an internal caller)."""
        if not number or not _EXTENSION.match(number):
            return False
        return any(extension_of(i) == number for i in self.interfaces.values())

    def interface_for(self, channel: str, dial_string: str = "") -> str:
        """The member interface for an agent channel: the known one, else built from the dial string."""
        parsed = parse_name(channel)
        if parsed is None:
            return channel
        known = self.interfaces.get(parsed.key)
        if known:
            return known
        if parsed.tech == "Local":
            if dial_string and "@" in dial_string:
                return local_interface(dial_string)
            return f"{parsed.key}/n"
        return parsed.key
