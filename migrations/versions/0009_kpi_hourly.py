"""contact-center figures: the hourly roll-up the reports read; the operators' open state found by index
(issue 13)

Revision ID: 0009_kpi_hourly
Revises: 0008_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_kpi_hourly"
down_revision = "0008_sessions"
branch_labels = None
depends_on = None

COUNTS = (
    "offered",
    "answered",
    "answered_in_sl",
    "abandoned",
    "abandoned_short",
    "abandoned_in_sl",
    "wait_answered_s",
    "talked",
    "talk_s",
    "acw_done",
    "acw_s",
    "answered_all",
    "fcr_resolved",
    "fcr_total",
)


def upgrade() -> None:
    # the writer closes an operator's open state on every change: find it without scanning their day
    op.create_index(
        "ix_agent_states_open",
        "agent_states",
        ["user_id"],
        postgresql_where=sa.text("ended_at IS NULL"),
        sqlite_where=sa.text("ended_at IS NULL"),
    )
    op.create_table(
        "kpi_hourly",
        sa.Column("slot", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("busy_s", sa.Float(), nullable=False),
        sa.Column("ready_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("slot", "queue", "operator_id", name="pk_kpi_hourly"),
    )


def downgrade() -> None:
    op.drop_table("kpi_hourly")
    op.drop_index("ix_agent_states_open", "agent_states")
