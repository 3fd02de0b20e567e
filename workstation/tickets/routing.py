"""Routing: which group and skills a ticket needs, how urgent it is, when its SLA falls due, and who
gets it.

Priority is 1 (critical) … 4 (low). It starts from the topic's base priority and is raised one step
(lower number) for each of: the subscriber's ARPU tier bump, a repeated request on the same topic
within the repeat window (7 days by default), an active outage in the subscriber's region. All of
these rules live in the database (``ticket_topic_routes``, ``ticket_sla_targets``,
``ticket_routing_settings``, ``ticket_outages``) and are edited by supervisors.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, literal, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import CompoundSelect

from workstation.models import User
from workstation.tickets.calendar import BusinessHours
from workstation.tickets.models import Ticket
from workstation.tickets.states import HELD_STATES

PRIORITIES = (1, 2, 3, 4)
PRIORITY_NAMES = {1: "critical", 2: "high", 3: "normal", 4: "low"}


@dataclass(frozen=True)
class Route:
    group: str
    skills: tuple[str, ...]
    base_priority: int = 3


@dataclass(frozen=True)
class Sla:
    first_response_min: int
    resolution_min: int
    business_hours: bool = True


@dataclass(frozen=True)
class ArpuTier:
    name: str
    min_arpu: float
    bump: int


@dataclass(frozen=True)
class PriorityRules:
    arpu_tiers: tuple[ArpuTier, ...] = (ArpuTier("vip", 1500.0, 1), ArpuTier("high", 700.0, 0))
    repeat_window_days: int = 7
    repeat_bump: int = 1
    outage_bump: int = 1

    def tier_of(self, arpu: float | None) -> ArpuTier | None:
        for tier in sorted(self.arpu_tiers, key=lambda t: -t.min_arpu):
            if arpu is not None and arpu >= tier.min_arpu:
                return tier
        return None


DEFAULT_ROUTE = Route("general", (), 3)
DEFAULT_ROUTES: dict[str, Route] = {
    "mobile_data": Route("network", ("mobile_data",), 3),
    "no_network": Route("network", ("no_network",), 2),
    "sms_problem": Route("network", ("sms_problem",), 3),
    "complaint_quality": Route("network", ("no_network",), 3),
    "device_settings": Route("network", ("mobile_data",), 4),
    "roaming": Route("services", ("roaming",), 3),
    "number_porting": Route("services", ("number_porting",), 2),
    "sim_replacement": Route("services", ("sim_replacement",), 3),
}
DEFAULT_SLA: dict[int, Sla] = {
    1: Sla(30, 240, False),
    2: Sla(60, 480, True),
    3: Sla(240, 1440, True),
    4: Sla(480, 2880, True),
}


@dataclass(frozen=True)
class RoutingConfig:
    """One consistent snapshot of every routing rule."""

    routes: dict[str, Route] = field(default_factory=lambda: dict(DEFAULT_ROUTES))
    sla: dict[int, Sla] = field(default_factory=lambda: dict(DEFAULT_SLA))
    rules: PriorityRules = PriorityRules()
    hours: BusinessHours = field(default_factory=BusinessHours)
    auto_assign: bool = True
    outage_regions: frozenset[str] = frozenset()

    def route_for(self, topic: str) -> Route:
        return self.routes.get(topic, DEFAULT_ROUTE)


@dataclass(frozen=True)
class Decision:
    group: str
    skills: tuple[str, ...]
    priority: int
    first_response_due: datetime
    resolution_due: datetime
    reasons: dict[str, Any]


def repeat_count(s: Session, subscriber_id: str, topic: str, since: datetime) -> int:
    """Earlier tickets of this subscriber on this topic since ``since``."""
    return int(
        s.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(
                Ticket.subscriber_id == subscriber_id, Ticket.topic_code == topic, Ticket.created_at >= since
            )
        )
        or 0
    )


def due_dates(cfg: RoutingConfig, priority: int, at: datetime) -> tuple[datetime, datetime]:
    sla = cfg.sla.get(priority) or DEFAULT_SLA[priority]
    if sla.business_hours:
        return cfg.hours.add_minutes(at, sla.first_response_min), cfg.hours.add_minutes(
            at, sla.resolution_min
        )
    return at + timedelta(minutes=sla.first_response_min), at + timedelta(minutes=sla.resolution_min)


def decide(
    cfg: RoutingConfig,
    s: Session,
    *,
    topic: str,
    subscriber_id: str,
    arpu: float | None,
    region: str | None,
    at: datetime,
    repeats: int | None = None,
) -> Decision:
    """Group, skills, priority and SLA due dates for a new ticket (``repeats`` when already counted)."""
    route = cfg.route_for(topic)
    reasons: dict[str, Any] = {"base": route.base_priority}
    bump = 0
    tier = cfg.rules.tier_of(arpu)
    reasons["arpu_tier"] = tier.name if tier else "standard"
    if tier:
        bump += tier.bump
    if repeats is None:
        repeats = repeat_count(s, subscriber_id, topic, at - timedelta(days=cfg.rules.repeat_window_days))
    reasons["repeat"] = repeats
    if repeats:
        bump += cfg.rules.repeat_bump
    outage = bool(region) and (region or "").strip().lower() in cfg.outage_regions
    reasons["outage"] = outage
    if outage:
        bump += cfg.rules.outage_bump
    priority = max(1, min(4, route.base_priority - bump))
    fr_due, res_due = due_dates(cfg, priority, at)
    return Decision(route.group, route.skills, priority, fr_due, res_due, reasons)


def has_skills(user_skills: Iterable[str] | None, required: Iterable[str]) -> bool:
    return set(required) <= set(user_skills or ())


def eligible(user: User, group: str | None, skills: Iterable[str]) -> bool:
    """An engineer may work a ticket when they have every skill and belong to its group (or to none)."""
    return has_skills(user.skills, skills) and (not group or not user.group or user.group == group)


def engineer_loads(s: Session, user_ids: list[int]) -> dict[int, int]:
    if not user_ids:
        return {}
    rows = s.execute(
        select(Ticket.assignee_id, func.count())
        .where(Ticket.assignee_id.in_(user_ids), Ticket.state.in_(HELD_STATES))
        .group_by(Ticket.assignee_id)
    ).all()
    loads = {uid: 0 for uid in user_ids}
    loads.update({int(uid): int(n) for uid, n in rows if uid is not None})
    return loads


def pick_engineer(s: Session, group: str | None, skills: Iterable[str]) -> int | None:
    """The least-loaded online engineer able to work the ticket (lowest id on a tie), or None."""
    return Roster(ttl_s=0).pick(s, group, skills)


ROSTER_TTL_S = 2.0


class Roster:
    """Online engineers (id, skills, group), re-read at most every ``ttl_s`` seconds.

    Who is online changes on the scale of minutes; reading the roster for every ticket would double the
    cost of routing. Loads (tickets held) are always read fresh.
    """

    def __init__(self, ttl_s: float = ROSTER_TTL_S):
        self.ttl_s = ttl_s
        self._rows: list[tuple[int, tuple[str, ...], str | None]] = []
        self._at = -1e9
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        self._at = -1e9

    def online(self, s: Session) -> list[tuple[int, tuple[str, ...], str | None]]:
        if time.monotonic() - self._at > self.ttl_s:
            rows = s.execute(
                select(User.id, User.skills, User.group).where(
                    User.role == "tech_support", User.active.is_(True), User.presence != "offline"
                )
            ).all()
            with self._lock:
                self._rows = [(int(uid), tuple(sk or ()), grp) for uid, sk, grp in rows]
                self._at = time.monotonic()
        return self._rows

    def candidates(self, s: Session, group: str | None, skills: Iterable[str]) -> list[int]:
        need = set(skills)
        return [
            uid
            for uid, sk, grp in self.online(s)
            if need <= set(sk) and (not group or not grp or grp == group)
        ]

    def pick(self, s: Session, group: str | None, skills: Iterable[str]) -> int | None:
        ids = self.candidates(s, group, skills)
        if not ids:
            return None
        loads = engineer_loads(s, ids)
        return min(ids, key=lambda uid: (loads[uid], uid))


_REPEAT_AND_LOADS: CompoundSelect = union_all(
    select(literal(-1).label("uid"), func.count().label("n"))
    .select_from(Ticket)
    .where(
        Ticket.subscriber_id == bindparam("sub"),
        Ticket.topic_code == bindparam("topic"),
        Ticket.created_at >= bindparam("since", type_=Ticket.__table__.c.created_at.type),
    ),
    select(Ticket.assignee_id, func.count())
    .where(Ticket.assignee_id.in_(bindparam("ids", expanding=True)), Ticket.state.in_(HELD_STATES))
    .group_by(Ticket.assignee_id),
)


def route(
    cfg: RoutingConfig,
    s: Session,
    roster: Roster,
    *,
    topic: str,
    subscriber_id: str,
    arpu: float | None,
    region: str | None,
    at: datetime,
) -> tuple[Decision, int | None]:
    """``decide`` and the engineer to assign (when ``cfg.auto_assign``) in one database round trip."""
    r = cfg.route_for(topic)
    ids = roster.candidates(s, r.group, r.skills) if cfg.auto_assign else []
    rows = s.execute(
        _REPEAT_AND_LOADS,
        {
            "sub": subscriber_id,
            "topic": topic,
            "since": at - timedelta(days=cfg.rules.repeat_window_days),
            "ids": ids or [-2],
        },
    ).all()
    counts = {int(uid): int(n) for uid, n in rows if uid is not None}
    d = decide(
        cfg,
        s,
        topic=topic,
        subscriber_id=subscriber_id,
        arpu=arpu,
        region=region,
        at=at,
        repeats=counts.get(-1, 0),
    )
    engineer = min(ids, key=lambda uid: (counts.get(uid, 0), uid)) if ids else None
    return d, engineer
