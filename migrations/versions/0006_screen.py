"""operator screen: remembered layout per operator, callbacks as tasks (issue 12)

Revision ID: 0006_screen
Revises: 0005_kpis
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_screen"
down_revision = "0005_kpis"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("ui_prefs", sa.JSON(), nullable=True))
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.String(64), nullable=True),
        sa.Column("msisdn", sa.String(32), nullable=True),
        sa.Column("call_id", sa.String(64), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["operator_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["record_id"], ["request_records.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_callbacks_operator_state_due", "callbacks", ["operator_id", "state", "due_at"])
    op.create_index("ix_callbacks_state_due", "callbacks", ["state", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_callbacks_state_due", table_name="callbacks")
    op.drop_index("ix_callbacks_operator_state_due", table_name="callbacks")
    op.drop_table("callbacks")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("ui_prefs")
