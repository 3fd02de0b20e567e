"""The topic tree: seeded from ``classifier.topics``, edited by supervisors; archiving keeps history."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from sqlalchemy import select

from classifier.topics import ALL_TOPICS, OTHER, OUT_OF_SCOPE
from workstation.db import Database
from workstation.errors import Conflict, DomainError, NotFound
from workstation.records.models import Topic

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,62}$")


def topic_dict(t: Topic, parent_code: str | None = None) -> dict[str, Any]:
    return {
        "id": t.id,
        "code": t.code,
        "parent_id": t.parent_id,
        "parent_code": parent_code,
        "name_ru": t.name_ru,
        "name_en": t.name_en,
        "archived": t.archived,
    }


class TopicService:
    """Topic tree reads (cached for the suggestion hot path) and supervisor edits."""

    CACHE_S = 5.0

    def __init__(self, db: Database):
        self.db = db
        self._cache: tuple[float, dict[str, dict[str, Any]]] | None = None
        self._lock = threading.Lock()

    def seed(self) -> int:
        """Insert the shipped topics that are missing (by code); returns how many were added."""
        added = 0
        with self.db.session() as s:
            existing = {t.code: t for t in s.scalars(select(Topic))}
            for d in ALL_TOPICS:
                if d.code in existing:
                    continue
                parent = existing.get(d.parent) if d.parent else None
                t = Topic(
                    code=d.code, name_ru=d.name_ru, name_en=d.name_en, parent_id=parent.id if parent else None
                )
                s.add(t)
                s.flush()
                existing[d.code] = t
                added += 1
        self.invalidate()
        return added

    def invalidate(self) -> None:
        self._cache = None

    def by_code(self) -> dict[str, dict[str, Any]]:
        """Every topic by code (archived included), cached for a few seconds."""
        cached = self._cache
        if cached and time.monotonic() - cached[0] < self.CACHE_S:
            return cached[1]
        with self._lock, self.db.session() as s:
            rows = list(s.scalars(select(Topic)))
        ids = {t.id: t.code for t in rows}
        data = {t.code: topic_dict(t, ids.get(t.parent_id) if t.parent_id else None) for t in rows}
        self._cache = (time.monotonic(), data)
        return data

    def leaf_codes(self, include_archived: bool = False) -> set[str]:
        """Codes a record can carry (topics under a parent, or a parentless topic without children)."""
        topics = self.by_code()
        parents = {t["parent_code"] for t in topics.values() if t["parent_code"]}
        return {c for c, t in topics.items() if c not in parents and (include_archived or not t["archived"])}

    def tree(self, include_archived: bool = True) -> list[dict[str, Any]]:
        """Parents with their children, in creation order."""
        topics = sorted(self.by_code().values(), key=lambda t: t["id"])
        roots = [
            dict(t, children=[])
            for t in topics
            if t["parent_id"] is None and (include_archived or not t["archived"])
        ]
        by_id = {r["id"]: r for r in roots}
        for t in topics:
            if (
                t["parent_id"] is not None
                and t["parent_id"] in by_id
                and (include_archived or not t["archived"])
            ):
                by_id[t["parent_id"]]["children"].append(t)
        return roots

    def create(self, code: str, name_ru: str, name_en: str, parent_code: str | None = None) -> dict[str, Any]:
        code = (code or "").strip().lower()
        if not CODE_RE.match(code) or code == OUT_OF_SCOPE:
            raise DomainError(
                "topic code: 2-63 latin letters, digits, _ starting with a letter",
                error_id="bad_topic_code",
                details={"code": code},
            )
        name_ru, name_en = (name_ru or "").strip(), (name_en or "").strip()
        if not name_ru or not name_en or len(name_ru) > 200 or len(name_en) > 200:
            raise DomainError(
                "both names (Russian and English, up to 200 characters) are needed", error_id="bad_topic_name"
            )
        with self.db.session() as s:
            if s.scalar(select(Topic).where(Topic.code == code)) is not None:
                raise Conflict(
                    f"topic {code} already exists", error_id="topic_exists", details={"code": code}
                )
            parent_id = self._parent_id(s, parent_code)
            t = Topic(code=code, name_ru=name_ru, name_en=name_en, parent_id=parent_id)
            s.add(t)
            s.flush()
            out = topic_dict(t, parent_code)
        self.invalidate()
        return out

    @staticmethod
    def _parent_id(s: Any, parent_code: str | None) -> int | None:
        if not parent_code:
            return None
        parent = s.scalar(select(Topic).where(Topic.code == parent_code))
        if parent is None:
            raise NotFound(f"no parent topic {parent_code}", error_id="topic_not_found")
        if parent.parent_id is not None:
            raise DomainError(
                "topics have two levels: a parent cannot itself have a parent", error_id="topic_too_deep"
            )
        return int(parent.id)

    def update(
        self,
        code: str,
        *,
        name_ru: str | None = None,
        name_en: str | None = None,
        archived: bool | None = None,
        parent_code: str | None = None,
    ) -> dict[str, Any]:
        """Rename, move or (un)archive. The code never changes: other features refer to it."""
        with self.db.session() as s:
            t = s.scalar(select(Topic).where(Topic.code == code))
            if t is None:
                raise NotFound(f"no topic {code}", error_id="topic_not_found")
            if name_ru is not None:
                if not name_ru.strip():
                    raise DomainError("the Russian name cannot be empty", error_id="bad_topic_name")
                t.name_ru = name_ru.strip()[:200]
            if name_en is not None:
                if not name_en.strip():
                    raise DomainError("the English name cannot be empty", error_id="bad_topic_name")
                t.name_en = name_en.strip()[:200]
            if archived is not None:
                if archived and code == OTHER:
                    raise Conflict(
                        "the free-text topic 'other' cannot be archived", error_id="topic_protected"
                    )
                t.archived = archived
            if parent_code is not None:
                has_children = s.scalar(select(Topic.id).where(Topic.parent_id == t.id).limit(1)) is not None
                if parent_code and has_children:
                    raise DomainError(
                        "a topic with children cannot move under a parent", error_id="topic_too_deep"
                    )
                if parent_code == code:
                    raise DomainError("a topic cannot be its own parent", error_id="topic_too_deep")
                t.parent_id = self._parent_id(s, parent_code or None)
            s.flush()
            parent = s.get(Topic, t.parent_id) if t.parent_id else None
            out = topic_dict(t, parent.code if parent else None)
        self.invalidate()
        return out
