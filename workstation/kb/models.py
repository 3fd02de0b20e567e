"""Knowledge-base tables: versioned Markdown articles linked to topics and tags, and call scripts.

Topics are referenced by their stable ``code`` (see ``classifier/topics.py``), never by a foreign key.
The full-text index is not mapped here: ``knowledge_base.index`` adds it per dialect (a ``tsvector``
column with a GIN index on PostgreSQL, an FTS5 table on SQLite).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workstation.db import Base, UtcDateTime, utcnow
from workstation.models import User  # noqa: F401  (the users table the foreign keys point at)


class KbArticle(Base):
    """The current version of an article. ``version`` guards concurrent edits (optimistic locking)."""

    __tablename__ = "kb_articles"
    __table_args__ = (UniqueConstraint("slug", "lang", name="uq_kb_articles_slug_lang"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(128))
    lang: Mapped[str] = mapped_column(String(8), default="ru")
    title: Mapped[str] = mapped_column(String(256))
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)  # sanitised rendering of body_md
    plain_text: Mapped[str] = mapped_column(Text)  # what the search indexes
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    archived: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declarative hook)


class KbArticleVersion(Base):
    """Every saved version of an article, newest last."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (
        UniqueConstraint("article_id", "version", name="uq_kb_article_versions_article_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(256))
    body_md: Mapped[str] = mapped_column(Text)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    edited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    edited_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class KbArticleTopic(Base):
    """Article ↔ topic code link, so "articles for this topic" is an index lookup."""

    __tablename__ = "kb_article_topics"
    __table_args__ = (Index("ix_kb_article_topics_topic", "topic_code"),)

    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True
    )
    topic_code: Mapped[str] = mapped_column(String(64), primary_key=True)


class CallScript(Base):
    """The call script of a topic in one language; ``{placeholders}`` are card fields."""

    __tablename__ = "kb_scripts"
    __table_args__ = (UniqueConstraint("topic_code", "lang", name="uq_kb_scripts_topic_lang"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_code: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(8), default="ru")
    title: Mapped[str] = mapped_column(String(256))
    body: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declarative hook)
