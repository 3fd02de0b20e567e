"""request records, topics, emerging-topic clusters (issue 4)

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name_ru", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_topics"),
        sa.UniqueConstraint("code", name="uq_topics_code"),
        sa.ForeignKeyConstraint(["parent_id"], ["topics.id"], name="fk_topics_parent_id_topics"),
    )
    op.create_index("ix_topics_parent_id", "topics", ["parent_id"])

    op.create_table(
        "request_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=True),
        sa.Column("subscriber_id", sa.String(64), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("note_truncated", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("suggestions", sa.JSON(), nullable=False),
        sa.Column("abstained", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("accepted_rank", sa.Integer(), nullable=True),
        sa.Column("best_confidence", sa.Float(), nullable=True),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("wait_s", sa.Float(), nullable=True),
        sa.Column("ring_s", sa.Float(), nullable=True),
        sa.Column("talk_s", sa.Float(), nullable=True),
        sa.Column("acw_s", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_request_records"),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name="fk_request_records_call_id_calls"),
        sa.ForeignKeyConstraint(["operator_id"], ["users.id"], name="fk_request_records_operator_id_users"),
    )
    for col in ("call_id", "subscriber_id", "operator_id", "created_at", "finished_at"):
        op.create_index(f"ix_request_records_{col}", "request_records", [col])

    op.create_table(
        "record_topics",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("suggested_rank", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("record_id", "topic_id", name="pk_record_topics"),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["request_records.id"],
            ondelete="CASCADE",
            name="fk_record_topics_record_id_request_records",
        ),
        sa.ForeignKeyConstraint(["topic_id"], ["topics.id"], name="fk_record_topics_topic_id_topics"),
    )
    op.create_index("ix_record_topics_topic_id", "record_topics", ["topic_id"])

    op.create_table(
        "emerging_clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("recent", sa.Integer(), nullable=False),
        sa.Column("previous", sa.Integer(), nullable=False),
        sa.Column("growth", sa.Float(), nullable=True),
        sa.Column("record_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_emerging_clusters"),
        sa.ForeignKeyConstraint(["topic_id"], ["topics.id"], name="fk_emerging_clusters_topic_id_topics"),
    )
    op.create_index("ix_emerging_clusters_run_at", "emerging_clusters", ["run_at"])
    op.create_index("ix_emerging_clusters_status", "emerging_clusters", ["status"])


def downgrade() -> None:
    op.drop_table("emerging_clusters")
    op.drop_table("record_topics")
    op.drop_table("request_records")
    op.drop_table("topics")
