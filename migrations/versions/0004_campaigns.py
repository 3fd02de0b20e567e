"""campaigns, offers, exports (issue 6)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segment_exports",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("month_from", sa.String(7), nullable=False),
        sa.Column("month_to", sa.String(7), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_segment_exports"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_segment_exports_user_id_users"),
    )
    op.create_index("ix_segment_exports_user_id", "segment_exports", ["user_id"])
    op.create_index("ix_segment_exports_created_at", "segment_exports", ["created_at"])

    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("offer_text", sa.Text(), nullable=False),
        sa.Column("export_id", sa.String(64), nullable=False),
        sa.Column("segments", sa.JSON(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("targets_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
        sa.ForeignKeyConstraint(["export_id"], ["segment_exports.id"], name="fk_campaigns_export_id_segment_exports"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_campaigns_created_by_users"),
    )
    op.create_index("ix_campaigns_export_id", "campaigns", ["export_id"])

    op.create_table(
        "campaign_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_targets"),
        sa.UniqueConstraint("campaign_id", "subscriber_id", name="uq_campaign_targets_campaign_id"),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_campaign_targets_campaign_id_campaigns", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["operator_id"], ["users.id"], name="fk_campaign_targets_operator_id_users"),
    )
    op.create_index("ix_campaign_targets_subscriber_id", "campaign_targets", ["subscriber_id"])


def downgrade() -> None:
    op.drop_table("campaign_targets")
    op.drop_table("campaigns")
    op.drop_table("segment_exports")
