"""classifier training store: finished records, scrubbed, as labelled examples (issue 14)

Revision ID: 0007_training_store
Revises: 0006_screen
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_training_store"
down_revision = "0006_screen"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_examples",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("holdout", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name="pk_training_examples"),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["request_records.id"],
            ondelete="CASCADE",
            name="fk_training_examples_record_id_request_records",
        ),
    )
    op.create_index("ix_training_examples_updated_at", "training_examples", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_training_examples_updated_at", table_name="training_examples")
    op.drop_table("training_examples")
