"""Routing rules in the database: load one ``RoutingConfig`` snapshot (cached briefly), save edits.

Supervisors edit four things: the topic-to-group map (``ticket_topic_routes``), SLA targets per
priority (``ticket_sla_targets``), named settings (``ticket_routing_settings``: ``priority_rules``,
``business_hours``, ``auto_assign``) and region outages (``ticket_outages``). Empty tables mean the
shipped defaults. Every edit is validated whole before anything is written.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from sqlalchemy import delete, select

from workstation.db import Database, utcnow
from workstation.errors import DomainError, NotFound
from workstation.tickets.calendar import BusinessHours
from workstation.tickets.models import RegionOutage, RoutingSetting, SlaTarget, TopicRoute
from workstation.tickets.routing import (
    DEFAULT_ROUTES,
    DEFAULT_SLA,
    PRIORITIES,
    ArpuTier,
    PriorityRules,
    Route,
    RoutingConfig,
    Sla,
)

CACHE_TTL_S = 5.0
_CODE = re.compile(r"^[a-z0-9_]{1,64}$")


class BadRouting(DomainError):
    status = 422
    error_id = "bad_routing"


def rules_from_dict(d: dict[str, Any]) -> PriorityRules:
    try:
        tiers = tuple(
            ArpuTier(str(t["name"]), float(t["min_arpu"]), int(t["bump"])) for t in d.get("arpu_tiers", [])
        )
        rules = PriorityRules(
            arpu_tiers=tiers,
            repeat_window_days=int(d.get("repeat_window_days", 7)),
            repeat_bump=int(d.get("repeat_bump", 1)),
            outage_bump=int(d.get("outage_bump", 1)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRouting(f"bad priority rules: {exc}", error_id="bad_priority_rules") from None
    if not 1 <= rules.repeat_window_days <= 90:
        raise BadRouting("the repeat window must be 1…90 days", error_id="bad_repeat_window")
    for bump in [rules.repeat_bump, rules.outage_bump, *(t.bump for t in tiers)]:
        if not 0 <= bump <= 3:
            raise BadRouting("a priority bump must be 0…3 steps", error_id="bad_priority_bump")
    return rules


def rules_to_dict(r: PriorityRules) -> dict[str, Any]:
    return {
        "arpu_tiers": [{"name": t.name, "min_arpu": t.min_arpu, "bump": t.bump} for t in r.arpu_tiers],
        "repeat_window_days": r.repeat_window_days,
        "repeat_bump": r.repeat_bump,
        "outage_bump": r.outage_bump,
    }


class ConfigStore:
    def __init__(self, db: Database):
        self.db = db
        self._cached: RoutingConfig | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        self._cached = None

    def current(self) -> RoutingConfig:
        """The routing snapshot, reloaded at most every few seconds (other nodes' edits show up then)."""
        cfg = self._cached
        if cfg is not None and time.monotonic() - self._loaded_at < CACHE_TTL_S:
            return cfg
        with self._lock:
            cfg = self._load()
            self._cached, self._loaded_at = cfg, time.monotonic()
        return cfg

    def _load(self) -> RoutingConfig:
        with self.db.session() as s:
            routes = {
                r.topic_code: Route(r.group, tuple(r.skills or ()), r.base_priority)
                for r in s.scalars(select(TopicRoute))
            }
            slas = {
                t.priority: Sla(t.first_response_min, t.resolution_min, t.business_hours)
                for t in s.scalars(select(SlaTarget))
            }
            settings = {r.key: r.value for r in s.scalars(select(RoutingSetting))}
            outages = frozenset(
                o.region.strip().lower()
                for o in s.scalars(select(RegionOutage).where(RegionOutage.active.is_(True)))
            )
        return RoutingConfig(
            routes=routes or dict(DEFAULT_ROUTES),
            sla={**DEFAULT_SLA, **slas},
            rules=rules_from_dict(settings["priority_rules"])
            if "priority_rules" in settings
            else PriorityRules(),
            hours=BusinessHours.from_dict(settings["business_hours"])
            if "business_hours" in settings
            else BusinessHours(),
            auto_assign=bool(settings.get("auto_assign", True)),
            outage_regions=outages,
        )

    # ------------------------------------------------------------------ views for the editor
    def as_dict(self) -> dict[str, Any]:
        cfg = self._load()
        with self.db.session() as s:
            outages = [
                {
                    "id": o.id,
                    "region": o.region,
                    "note": o.note,
                    "active": o.active,
                    "started_at": o.started_at.isoformat(),
                    "ended_at": o.ended_at.isoformat() if o.ended_at else None,
                }
                for o in s.scalars(select(RegionOutage).order_by(RegionOutage.id.desc()).limit(100))
            ]
        return {
            "routes": [
                {"topic": t, "group": r.group, "skills": list(r.skills), "base_priority": r.base_priority}
                for t, r in sorted(cfg.routes.items())
            ],
            "sla": [
                {
                    "priority": p,
                    "first_response_min": v.first_response_min,
                    "resolution_min": v.resolution_min,
                    "business_hours": v.business_hours,
                }
                for p, v in sorted(cfg.sla.items())
            ],
            "priority_rules": rules_to_dict(cfg.rules),
            "business_hours": cfg.hours.to_dict(),
            "auto_assign": cfg.auto_assign,
            "outages": outages,
        }

    # ------------------------------------------------------------------ edits
    def save_routes(self, routes: list[dict[str, Any]]) -> None:
        """Replace the topic-to-group map. Every problem is reported at once, each with its row."""
        clean: dict[str, TopicRoute] = {}
        problems: list[dict[str, Any]] = []

        def problem(row: int, error_id: str, message: str, topic: str) -> None:
            problems.append({"row": row, "error_id": error_id, "message": message, "topic": topic})

        for row, r in enumerate(routes):
            topic = str(r.get("topic", "")).strip()
            group = str(r.get("group", "")).strip()
            skills = [str(x).strip() for x in r.get("skills", []) if str(x).strip()]
            try:
                base = int(r.get("base_priority", 3))
            except (TypeError, ValueError):
                base = 0
            bad = len(problems)
            if not _CODE.match(topic):
                problem(
                    row,
                    error_id="route_bad_topic",
                    message=f"bad topic code {topic[:64]!r}",
                    topic=topic[:64],
                )
            if not _CODE.match(group):
                problem(
                    row,
                    error_id="route_bad_group",
                    message=f"bad group {group[:64]!r} for {topic}: latin letters, digits and '_'",
                    topic=topic,
                )
            if any(not _CODE.match(x) for x in skills):
                problem(
                    row,
                    error_id="route_bad_skill",
                    message=f"bad skill for {topic}: latin letters, digits and '_'",
                    topic=topic,
                )
            if base not in PRIORITIES:
                problem(
                    row,
                    error_id="route_bad_priority",
                    message=f"base priority of {topic} must be 1…4",
                    topic=topic,
                )
            if topic in clean:
                problem(row, error_id="route_twice", message=f"topic {topic} is listed twice", topic=topic)
            if len(problems) == bad:
                clean[topic] = TopicRoute(topic_code=topic, group=group, skills=skills, base_priority=base)
        if problems:
            first = problems[0]
            raise BadRouting(
                f"{len(problems)} problem(s) in the routing rules; the first: {first['message']}",
                error_id="routes_invalid",  # each problem carries its own id, shown on its row
                details={"topic": first["topic"], "n": len(problems), "problems": problems},
            )
        with self.db.session() as s:
            s.execute(delete(TopicRoute))
            s.add_all(clean.values())
        self.invalidate()

    def save_sla(self, targets: list[dict[str, Any]]) -> None:
        rows = []
        for t in targets:
            try:
                p, fr, res = int(t["priority"]), int(t["first_response_min"]), int(t["resolution_min"])
            except (KeyError, TypeError, ValueError):
                raise BadRouting(
                    "each SLA target needs priority, first_response_min, resolution_min",
                    error_id="sla_incomplete",
                ) from None
            if p not in PRIORITIES:
                raise BadRouting("priority must be 1…4", error_id="sla_bad_priority")
            if not 1 <= fr <= res <= 60 * 24 * 90:
                raise BadRouting(
                    f"P{p}: first response must be ≥ 1 minute and not after resolution",
                    error_id="sla_bad_times",
                    details={"p": p},
                )
            rows.append(
                SlaTarget(
                    priority=p,
                    first_response_min=fr,
                    resolution_min=res,
                    business_hours=bool(t.get("business_hours", True)),
                )
            )
        with self.db.session() as s:
            s.execute(delete(SlaTarget))
            s.add_all(rows)
        self.invalidate()

    def save_setting(self, key: str, value: Any, user_id: int | None = None) -> None:
        if key == "priority_rules":
            value = rules_to_dict(rules_from_dict(value if isinstance(value, dict) else {}))
        elif key == "business_hours":
            value = BusinessHours.from_dict(value if isinstance(value, dict) else {}).to_dict()
        elif key == "auto_assign":
            value = bool(value)
        else:
            raise BadRouting(f"unknown setting {key[:64]!r}", error_id="unknown_setting")
        with self.db.session() as s:
            row = s.get(RoutingSetting, key) or RoutingSetting(key=key)
            row.value, row.updated_at, row.updated_by = value, utcnow(), user_id
            s.add(row)
        self.invalidate()

    def declare_outage(self, region: str, note: str = "", user_id: int | None = None) -> int:
        region = (region or "").strip()
        if not region or len(region) > 128:
            raise BadRouting("name the region of the outage", error_id="outage_no_region")
        with self.db.session() as s:
            o = RegionOutage(region=region, note=(note or "")[:2000], created_by=user_id)
            s.add(o)
            s.flush()
            oid = o.id
        self.invalidate()
        return oid

    def end_outage(self, outage_id: int) -> None:
        with self.db.session() as s:
            o = s.get(RegionOutage, outage_id)
            if o is None:
                raise NotFound(f"no outage {outage_id}", error_id="outage_not_found")
            o.active, o.ended_at = False, utcnow()
        self.invalidate()
