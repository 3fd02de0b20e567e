"""contact-center figures: call facts and the operators' state log (issue 13)

Revision ID: 0005_kpis
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_kpis"
down_revision = "0004"
branch_labels = None
depends_on = None

FACTS = ("wait_s", "ring_s", "talk_s", "acw_s", "offers")


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
        for name in FACTS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
    op.create_index("ix_calls_started_at", "calls", ["started_at"])
    op.create_table(
        "agent_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_agent_states"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_agent_states_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_agent_states_user_started", "agent_states", ["user_id", "started_at"])
    op.create_index("ix_agent_states_started_at", "agent_states", ["started_at"])


def downgrade() -> None:
    op.drop_table("agent_states")
    op.drop_index("ix_calls_started_at", "calls")
    with op.batch_alter_table("calls") as batch:
        for name in (*FACTS, "started_at"):
            batch.drop_column(name)
