"""The ticket tables as the migration makes them (matching the models), and the feature as bootstrap wires it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from billing_adapter.memory import MemoryBilling
from tests.integration.tickets.people import add_user
from workstation.bus.memory import MemoryBus
from workstation.db import Database
from workstation.tickets.models import Ticket

TICKET_TABLES = {
    "tickets",
    "ticket_events",
    "ticket_comments",
    "ticket_attachments",
    "ticket_topic_routes",
    "ticket_sla_targets",
    "ticket_routing_settings",
    "ticket_outages",
}


def test_the_migration_made_every_ticket_table(db_url: str, tmp_path: Path) -> None:
    from sqlalchemy import inspect

    eng = Database(db_url).engine
    names = set(inspect(eng).get_table_names())
    assert names >= TICKET_TABLES
    eng.dispose()


async def test_build_wires_the_card_section_the_scheduler_and_the_offline_hook(
    db: Database, billing: MemoryBilling, tmp_path: Path
) -> None:
    from workstation.bootstrap import bootstrap
    from workstation.settings import Settings
    from workstation.tickets import feature, sla

    bus = MemoryBus()
    container = bootstrap(
        Settings(data_dir=tmp_path), db=db, bus=bus, billing=billing, telephony=False, features=(feature,)
    )
    assert container.tickets is not None
    svc = container.tickets.tickets
    op = add_user(db, "op", role="operator")
    eng = add_user(db, "eng", skills=["sms_problem"])
    t = await svc.escalate(op, subscriber_id="1", topic="sms_problem", note="n")
    assert t["assignee_id"] == eng.id
    assert t["state"] == "assigned"
    section = await container.card_sections["tickets"]("1", op)
    assert [x["id"] for x in section] == [t["id"]]
    # the SLA scheduler runs in the background (beside the core's own background work)
    assert sum(getattr(t, "func", None) is sla.run_scheduler for t in container.background) == 1
    # the engineer goes offline: presence changes are announced to supervisors as floor.changed
    await bus.publish("role.supervisor", {"type": "floor.changed", "user_id": eng.id, "presence": "offline"})
    with db.session() as s:
        row = s.get(Ticket, t["id"])
        assert row is not None
        assert row.state == "new"
        assert row.assignee_id is None


def test_migration_matches_the_models(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from workstation import models_all  # noqa: F401
    from workstation.db import Base

    mine = {
        *TICKET_TABLES,
        "kb_articles",
        "kb_article_versions",
        "kb_article_topics",
        "kb_scripts",
    }
    eng = Database(db_url).engine
    with eng.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    eng.dispose()

    def table_of(d: Any) -> str | None:
        import sqlalchemy as sa

        for entry in d if isinstance(d, list) else [d]:
            for x in entry[1:]:
                if isinstance(x, sa.Table):
                    return str(x.name)
                table = getattr(x, "table", None)
                if isinstance(table, sa.Table):
                    return str(table.name)
                if isinstance(x, str) and x in mine:
                    return x
        return None

    mine_diffs = [d for d in diffs if table_of(d) in mine]
    # the search index column (PostgreSQL) is created by the migration on purpose and is not mapped
    mine_diffs = [d for d in mine_diffs if "search_tsv" not in repr(d)]
    assert mine_diffs == []
