"""Knowledge-base search and ticket routing latency, on SQLite and on PostgreSQL.

Prints one JSON object per database:
``{"db": "sqlite", "kb_articles": 10000, "kb_search_p99_ms": …, "routing_p99_ms": …, …}``

* kb search: ``KnowledgeBase.search`` (the whole service path: full-text query, typo correction when
  nothing matches, loading the hits) over ``kb_articles`` synthetic articles made from the shipped
  Russian and English seed articles, with a mix of Russian and English queries, inflected forms,
  typos and queries that find nothing.
* routing: ``workstation.tickets.routing.route`` — the decision for a new ticket (group, skills,
  priority from ARPU tier / repeats within 7 days / outage, SLA due dates in business hours) plus the
  least-loaded online engineer with the skills (one database round trip), against ``tickets`` existing
  tickets and ``engineers`` engineers.

Usage: ``python benchmarks/kb_routing.py [--quick] [--db sqlite|postgresql|both]``. PostgreSQL is the
server at ``TEST_PG_ADMIN_URL`` (default postgres@127.0.0.1:5432/test); a scratch database is created
and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text

from knowledge_base.render import plain_text, render_markdown
from knowledge_base.seed import seed_articles
from workstation.db import Database, utcnow
from workstation.kb.models import KbArticle
from workstation.kb.service import KnowledgeBase
from workstation.migrate import upgrade
from workstation.models import User
from workstation.tickets import routing
from workstation.tickets.config_store import ConfigStore
from workstation.tickets.models import Ticket

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TOPICS = [
    "mobile_data",
    "no_network",
    "sms_problem",
    "roaming",
    "number_porting",
    "sim_replacement",
    "complaint_quality",
    "device_settings",
]
QUERIES = [
    "настройки интернета",
    "не работает интернет",
    "нет сети",
    "смс не приходят",
    "роуминг за границей",
    "перенос номера",
    "замена сим-карты",
    "плохая связь",
    "apn",
    "volte",
    "роуменг",
    "интернт",
    "сеть пропала",
    "APN settings",
    "no network",
    "sms not delivered",
    "roaming abroad",
    "number porting",
    "sim replacement",
    "roamng",
    "poor call quality",
    "wifi calling",
    "esim qr code",
    "negative balance",
    "квантовый телепорт",
]


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return round(s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))], 3)


def pseudo_words(n: int, alphabet: str, rng: random.Random) -> list[str]:
    """Pronounceable made-up words: the long tail of a real knowledge base's vocabulary."""
    vowels = [c for c in alphabet if c in "aeiouyаеиоуыэюя"]
    consonants = [c for c in alphabet if c not in vowels]
    out: set[str] = set()
    while len(out) < n:
        out.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4))))
    return sorted(out)


def make_articles(n: int, rng: random.Random) -> list[dict[str, Any]]:
    """Synthetic articles: a few sentences of the shipped articles in a long tail of Zipf-distributed words."""
    seeds = seed_articles()
    sentences: dict[str, list[str]] = {"ru": [], "en": []}
    titles: dict[str, list[str]] = {"ru": [], "en": []}
    for a in seeds:
        sentences[a["lang"]] += [ln.strip() for ln in a["body_md"].splitlines() if len(ln.strip()) > 20]
        titles[a["lang"]].append(a["title"])
    tails = {
        "ru": pseudo_words(20_000, "бвгдзклмнпрстфхаеиоуыя", rng),
        "en": pseudo_words(20_000, "bcdfghklmnprstvaeiou", rng),
    }
    weights = [1.0 / (rank + 1) for rank in range(20_000)]
    rows = []
    now = utcnow()
    for i in range(n):
        lang = "ru" if i % 2 == 0 else "en"
        tail = rng.choices(tails[lang], weights=weights, k=90)
        body = "\n\n".join(
            [*rng.sample(sentences[lang], 3), " ".join(tail[:45]) + ".", " ".join(tail[45:]) + "."]
        )
        title = f"{rng.choice(titles[lang]).split(' — ')[0]}: {' '.join(rng.sample(tail, 3))}"
        html = render_markdown(body)
        rows.append(
            {
                "slug": f"gen-{i}",
                "lang": lang,
                "title": title,
                "body_md": body,
                "body_html": html,
                "plain_text": plain_text(html),
                "topics": [rng.choice(TOPICS)],
                "tags": [],
                "archived": False,
                "version": 1,
                "updated_at": now,
            }
        )
    return rows


def load(
    db: Database, articles: list[dict[str, Any]], n_tickets: int, n_engineers: int, rng: random.Random
) -> None:
    with db.session() as s:
        for i in range(0, len(articles), 1000):
            s.execute(insert(KbArticle), articles[i : i + 1000])
        s.execute(
            insert(User),
            [
                {
                    "username": f"eng{i}",
                    "display_name": f"eng{i}",
                    "password_hash": "x",
                    "role": "tech_support",
                    "presence": "ready" if i % 3 else "offline",
                    "skills": rng.sample(TOPICS, 3),
                    "group": None,
                    "language": "ru",
                    "active": True,
                }
                for i in range(n_engineers)
            ],
        )
    with db.session() as s:
        eng_ids = [r[0] for r in s.execute(text("SELECT id FROM users"))]
        now = utcnow()
        batch = []
        for _i in range(n_tickets):
            # history is mostly finished; about 10 tickets per engineer in hand and a few hundred queued
            r = rng.random()
            state = (
                "new"
                if r < 0.02
                else rng.choice(["in_progress", "waiting"])
                if r < 0.05
                else rng.choice(["resolved", "closed", "closed"])
            )
            batch.append(
                {
                    "subscriber_id": str(rng.randint(1, n_tickets // 2)),
                    "topic_code": rng.choice(TOPICS),
                    "state": state,
                    "priority": rng.randint(1, 4),
                    "group": "network",
                    "required_skills": [],
                    "note": "",
                    "card_snapshot": {},
                    "routing": {},
                    "version": 1,
                    "reopen_count": 0,
                    "assignee_id": rng.choice(eng_ids) if state in ("in_progress", "waiting") else None,
                    "created_at": now - timedelta(minutes=rng.randint(0, 60 * 24 * 90)),
                    "updated_at": now,
                }
            )
            if len(batch) == 2000:
                s.execute(insert(Ticket), batch)
                batch = []
        if batch:
            s.execute(insert(Ticket), batch)


def run(db_name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(7)
    upgrade(url)
    db = Database(url)
    t0 = time.perf_counter()
    load(db, make_articles(args.articles, rng), args.tickets, args.engineers, rng)
    kb = KnowledgeBase(db)
    kb.reindex_all()
    if (
        db.dialect == "postgresql"
    ):  # fresh tables: no statistics, no visibility map yet; autovacuum gives both
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
    setup_s = time.perf_counter() - t0
    for q in QUERIES:  # warm-up: caches, vocabulary for typo correction
        kb.search(q)
    search_ms = []
    for i in range(args.queries):
        q = QUERIES[i % len(QUERIES)]
        lang = None if i % 3 == 0 else ("ru" if any("а" <= ch <= "я" for ch in q) else "en")
        t = time.perf_counter()
        kb.search(q, lang=lang)
        search_ms.append((time.perf_counter() - t) * 1000)

    store = ConfigStore(db)
    store.declare_outage("Тверь")
    cfg = store.current()
    route_ms = []
    roster = routing.Roster()  # what TicketService uses: the online roster is re-read every 2 s
    with db.session() as s:
        for i in range(args.decisions):
            topic = TOPICS[i % len(TOPICS)]
            t = time.perf_counter()
            routing.route(
                cfg,
                s,
                roster,
                topic=topic,
                subscriber_id=str(rng.randint(1, args.tickets // 2)),
                arpu=rng.uniform(100, 3000),
                region=rng.choice(["Москва", "Тверь"]),
                at=utcnow(),
            )
            route_ms.append((time.perf_counter() - t) * 1000)
    db.dispose()
    return {
        "db": db_name,
        "kb_articles": args.articles,
        "kb_queries": len(search_ms),
        "kb_search_p50_ms": pct(search_ms, 50),
        "kb_search_p99_ms": pct(search_ms, 99),
        "kb_search_mean_ms": round(statistics.fmean(search_ms), 3),
        "tickets": args.tickets,
        "engineers": args.engineers,
        "routing_decisions": len(route_ms),
        "routing_p50_ms": pct(route_ms, 50),
        "routing_p99_ms": pct(route_ms, 99),
        "target_routing_p99_ms": 5,
        "target_kb_search_p99_ms": 50,
        "setup_s": round(setup_s, 1),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer queries and tickets (articles stay 10k)")
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--articles", type=int, default=10_000)
    args = p.parse_args()
    args.queries = 300 if args.quick else 2000
    args.decisions = 500 if args.quick else 5000
    args.tickets = 20_000 if args.quick else 100_000
    args.engineers = 60
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as d:
            print(json.dumps(run("sqlite", f"sqlite:///{d}/bench.db", args)), flush=True)
    if args.db in ("postgresql", "both"):
        name = f"bench_kb_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            print(
                json.dumps(run("postgresql", PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, args)), flush=True
            )
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
