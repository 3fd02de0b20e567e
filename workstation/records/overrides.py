"""Where operators override the suggestion, per topic: where the model is wrong on the floor.

For every finished record in a period, the topic the operator chose first is compared with what the
operator was shown (the suggestions stored on the record): accepted as shown first, found further down
the list, overridden (the first suggestion was another topic), offered "Other" first, or nothing shown.
Per chosen topic it lists which topics the model most often put first instead. Topic codes and counts
only: no note, no operator, no subscriber.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from workstation.db import Database
from workstation.errors import DomainError
from workstation.records.models import RecordTopic, RequestRecord, Topic

DEFAULT_DAYS = 14
# "suggested instead" lists at most this many topics per chosen topic
TOP_CONFUSIONS = 3


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def override_stats(
    db: Database, start: datetime | None = None, end: datetime | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Per chosen topic in [start, end) (default: the last 14 days) how operators used the suggestions."""
    end = _aware(end) if end else (now or datetime.now(UTC))
    start = _aware(start) if start else end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise DomainError("the period is empty: 'from' must be before 'to'", error_id="bad_period")
    rows = Counter[tuple[str, str]]()
    instead: dict[str, Counter[str]] = {}
    with db.session() as s:
        found = s.execute(
            select(Topic.code, RequestRecord.suggestions, RequestRecord.abstained)
            .select_from(RequestRecord)
            .join(RecordTopic, RecordTopic.record_id == RequestRecord.id)
            .join(Topic, Topic.id == RecordTopic.topic_id)
            .where(
                RequestRecord.status == "finished",
                RecordTopic.position == 0,
                RequestRecord.finished_at >= start,
                RequestRecord.finished_at < end,
            )
        ).all()
        names = {t.code: (t.name_ru, t.name_en) for t in s.scalars(select(Topic))}
    for chosen, shown, abstained in found:
        codes = [str(x.get("code")) for x in (shown or []) if isinstance(x, dict)]
        rows[(chosen, "records")] += 1
        if not codes:
            rows[(chosen, "none_shown")] += 1
            continue
        if abstained:
            rows[(chosen, "other_first")] += 1
        if codes[0] == chosen:
            rows[(chosen, "accepted_first")] += 1
        else:
            rows[(chosen, "overridden")] += 1
            instead.setdefault(chosen, Counter())[codes[0]] += 1
            if chosen in codes[1:3]:
                rows[(chosen, "found_lower")] += 1
    topics: list[dict[str, Any]] = []
    for code in sorted({c for c, _ in rows}):
        shown_n = rows[(code, "records")] - rows[(code, "none_shown")]
        ru, en = names.get(code, (code, code))
        topics.append(
            {
                "code": code,
                "name_ru": ru,
                "name_en": en,
                "records": rows[(code, "records")],
                "accepted_first": rows[(code, "accepted_first")],
                "found_lower": rows[(code, "found_lower")],
                "overridden": rows[(code, "overridden")],
                "other_first": rows[(code, "other_first")],
                "none_shown": rows[(code, "none_shown")],
                "override_rate": round(rows[(code, "overridden")] / shown_n, 3) if shown_n else None,
                "suggested_instead": [
                    {
                        "code": c,
                        "name_ru": names.get(c, (c, c))[0],
                        "name_en": names.get(c, (c, c))[1],
                        "count": n,
                    }
                    for c, n in instead.get(code, Counter()).most_common(TOP_CONFUSIONS)
                ],
            }
        )
    topics.sort(key=lambda x: (-(x["override_rate"] or 0), -x["records"]))
    return {"from": start.isoformat(), "to": end.isoformat(), "topics": topics}
