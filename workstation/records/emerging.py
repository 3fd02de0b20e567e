"""The emerging-topic job: clusters of recent free-text ("Other") and low-confidence notes, shown to
supervisors with masked examples; promoting a cluster creates a topic and makes its notes training labels.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import exists, or_, select, update

from classifier.emerging import MAX_NOTES, find_clusters
from classifier.topics import OTHER
from workstation.db import Database
from workstation.errors import Conflict, NotFound
from workstation.leader import LeaderLock, run_while_leader
from workstation.records.masking import mask
from workstation.records.models import EmergingCluster, RecordTopic, RequestRecord
from workstation.records.topics import TopicService

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=7)
RECENT_WINDOW = timedelta(days=1)
LOW_CONFIDENCE = 0.5
RUN_EVERY_S = 3600.0


def cluster_dict(c: EmergingCluster) -> dict[str, Any]:
    return {
        "id": c.id,
        "run_at": (c.run_at if c.run_at.tzinfo else c.run_at.replace(tzinfo=UTC)).isoformat(),
        "keywords": c.keywords,
        "examples": c.examples,
        "size": c.size,
        "recent": c.recent,
        "previous": c.previous,
        "growth": c.growth,
        "status": c.status,
        "topic_id": c.topic_id,
    }


class EmergingService:
    def __init__(self, db: Database, topics: TopicService, hub: Any = None):
        self.db = db
        self.topics = topics
        self.hub = hub

    async def run_and_notify(self) -> list[dict[str, Any]]:
        """``run`` off the event loop, then tell supervisors' screens (cluster count only)."""
        clusters = await asyncio.to_thread(self.run)
        if self.hub is not None:
            await self.hub.send_to_role("supervisor", {"type": "emerging.updated", "clusters": len(clusters)})
        return clusters

    def candidates(self, now: datetime) -> list[tuple[int, str, datetime]]:
        """(id, note, time) of recent finished records recorded as "Other" (main topic) or with low
        confidence, not yet promoted; the newest ``MAX_NOTES``, oldest first. Filtered in SQL."""
        other_id = self.topics.by_code().get(OTHER, {}).get("id")
        as_other = exists().where(
            RecordTopic.record_id == RequestRecord.id,
            RecordTopic.position == 0,
            RecordTopic.topic_id == other_id,
        )
        promoted = exists().where(RecordTopic.record_id == RequestRecord.id, RecordTopic.source == "promoted")
        with self.db.session() as s:
            rows = s.execute(
                select(RequestRecord.id, RequestRecord.note, RequestRecord.created_at)
                .where(
                    RequestRecord.status == "finished",
                    RequestRecord.note != "",
                    RequestRecord.created_at >= now - LOOKBACK,
                    or_(
                        as_other,
                        RequestRecord.abstained.is_(True),
                        RequestRecord.best_confidence < LOW_CONFIDENCE,
                    ),
                    ~promoted,
                )
                .order_by(RequestRecord.created_at.desc(), RequestRecord.id.desc())
                .limit(MAX_NOTES)
            ).all()
        return [(rid, note, at if at.tzinfo else at.replace(tzinfo=UTC)) for rid, note, at in reversed(rows)]

    def run(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Recompute the clusters; previous open ones are superseded. Returns the new clusters."""
        now = now or datetime.now(UTC)
        cands = self.candidates(now)
        clusters = find_clusters(
            [c[1] for c in cands], [c[2] for c in cands], now, recent_window=RECENT_WINDOW
        )
        with self.db.session() as s:
            s.execute(
                update(EmergingCluster).where(EmergingCluster.status == "open").values(status="superseded")
            )
            rows = []
            for c in clusters:
                row = EmergingCluster(
                    run_at=now,
                    keywords=c.keywords,
                    size=c.size,
                    recent=c.recent,
                    previous=c.previous,
                    growth=c.growth,
                    examples=[mask(cands[i][1]) for i in c.examples],
                    record_ids=[cands[i][0] for i in c.members],
                    status="open",
                )
                s.add(row)
                rows.append(row)
            s.flush()
            out = [cluster_dict(r) for r in rows]
        log.info("emerging topics: %d candidate notes, %d clusters", len(cands), len(out))
        return out

    def list_open(self) -> list[dict[str, Any]]:
        with self.db.session() as s:
            rows = s.scalars(
                select(EmergingCluster)
                .where(EmergingCluster.status == "open")
                .order_by(EmergingCluster.size.desc(), EmergingCluster.id)
            ).all()
            return [cluster_dict(r) for r in rows]

    def promote(
        self, cluster_id: int, code: str, name_ru: str, name_en: str, parent_code: str | None = None
    ) -> dict[str, Any]:
        """Create a topic from an open cluster; its records get the topic (source ``promoted``)."""
        with self.db.session() as s:
            cl = s.get(EmergingCluster, cluster_id)
            if cl is None:
                raise NotFound("no such cluster", error_id="cluster_not_found")
            if cl.status != "open":
                raise Conflict(
                    f"the cluster is {cl.status}; run the job again for fresh clusters",
                    error_id="cluster_not_open",
                )
        topic = self.topics.create(code, name_ru, name_en, parent_code)
        with self.db.session() as s:
            cl = s.get(EmergingCluster, cluster_id)
            assert cl is not None
            records = s.scalars(select(RequestRecord).where(RequestRecord.id.in_(cl.record_ids))).all()
            for r in records:
                r.topics.append(RecordTopic(topic_id=topic["id"], position=len(r.topics), source="promoted"))
            cl.status, cl.topic_id = "promoted", topic["id"]
        return {"topic": topic, "records": len(records)}

    def dismiss(self, cluster_id: int) -> dict[str, Any]:
        with self.db.session() as s:
            cl = s.get(EmergingCluster, cluster_id)
            if cl is None:
                raise NotFound("no such cluster", error_id="cluster_not_found")
            cl.status = "dismissed"
            return cluster_dict(cl)

    async def run_periodically(self, lock: LeaderLock) -> None:
        """Background job: recompute every hour on the node holding ``lock``."""

        async def loop() -> None:
            while True:
                try:
                    await self.run_and_notify()
                except Exception:
                    log.exception("emerging topics: run failed")
                await asyncio.sleep(RUN_EVERY_S)

        await run_while_leader(lock, loop)
