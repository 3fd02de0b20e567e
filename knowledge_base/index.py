"""The full-text index of articles, one implementation per database.

PostgreSQL: a ``search_tsv tsvector`` column on ``kb_articles`` (title and tags weighted A, body B)
under a GIN index, built with the ``russian`` configuration, which stems Cyrillic words with the
Russian Snowball stemmer and Latin ones with the English stemmer and English stop words: one vector
serves both languages (and mixed text such as "настройки APN"), half the size of two.
SQLite: an FTS5 table ``kb_fts`` (rowid = article id) holding Snowball-stemmed words
(``knowledge_base.text``), ranked by bm25.

Both answer the same question the same way: every meaningful query word must match (after stemming);
when nothing does, any word may (an OR query), ranked lower by nature. Ranking is bounded: only the
first ``RANK_CANDIDATES`` matches are scored, so a query as broad as "нет сети" costs the same over
10k articles as over 1k (such a query is refined by its topic filter or a second word anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from knowledge_base import text as kbtext

PG_DDL = (
    "ALTER TABLE kb_articles ADD COLUMN IF NOT EXISTS search_tsv tsvector",
    "CREATE INDEX IF NOT EXISTS ix_kb_articles_search_tsv ON kb_articles USING GIN (search_tsv)",
)
RANK_CANDIDATES = 500
SQLITE_DDL = ("CREATE VIRTUAL TABLE IF NOT EXISTS kb_fts USING fts5(title, body, tokenize='unicode61')",)

_PG_VECTOR = """
    setweight(to_tsvector('russian', title || ' ' || coalesce(CAST(tags AS text), '')), 'A')
 || setweight(to_tsvector('russian', plain_text), 'B')
"""


def ddl_for(dialect: str) -> tuple[str, ...]:
    """The statements that create the index on this dialect (used by the migration and ``ensure``)."""
    if dialect == "postgresql":
        return PG_DDL
    if dialect == "sqlite":
        return SQLITE_DDL
    raise ValueError(f"no knowledge-base index for database {dialect!r}")


class SearchIndex(Protocol):
    def ensure(self, conn: Connection) -> None:
        """Create the index structures if missing (idempotent)."""
        ...

    def reindex(self, s: Session, article_ids: Sequence[int] | None = None) -> None:
        """Rebuild index entries of these articles (all when None)."""
        ...

    def search(
        self, s: Session, query: str, *, lang: str | None, limit: int, any_word: bool = False
    ) -> list[tuple[int, float]]:
        """(article id, score) best first; archived articles never appear."""
        ...


def _filters(lang: str | None) -> str:
    return " AND a.archived = false" + (" AND a.lang = :lang" if lang else "")


class PostgresIndex:
    def ensure(self, conn: Connection) -> None:
        for stmt in PG_DDL:
            conn.execute(text(stmt))

    def reindex(self, s: Session, article_ids: Sequence[int] | None = None) -> None:
        if article_ids is None:
            s.execute(text(f"UPDATE kb_articles SET search_tsv = {_PG_VECTOR}"))
        elif article_ids:
            s.execute(
                text(f"UPDATE kb_articles SET search_tsv = {_PG_VECTOR} WHERE id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": list(article_ids)},
            )

    def search(
        self, s: Session, query: str, *, lang: str | None, limit: int, any_word: bool = False
    ) -> list[tuple[int, float]]:
        words = kbtext.words(query)
        if not words:
            return []
        if any_word:
            q = " or ".join(words)
            tsq = "websearch_to_tsquery('russian', :q)"
        else:
            q = " ".join(words)
            tsq = "plainto_tsquery('russian', :q)"
        sql = (
            f"WITH q AS (SELECT {tsq} AS query), "
            f"c AS MATERIALIZED (SELECT a.id, a.search_tsv FROM kb_articles a, q WHERE a.search_tsv @@ q.query "
            f"{_filters(lang)} LIMIT {RANK_CANDIDATES}) "
            "SELECT c.id, ts_rank(c.search_tsv, q.query) AS score FROM c, q ORDER BY score DESC, c.id LIMIT :limit"
        )
        params: dict[str, object] = {"q": q, "limit": limit}
        if lang:
            params["lang"] = lang
        return [(int(r[0]), float(r[1])) for r in s.execute(text(sql), params)]


class SqliteIndex:
    def ensure(self, conn: Connection) -> None:
        for stmt in SQLITE_DDL:
            conn.exec_driver_sql(stmt)

    def reindex(self, s: Session, article_ids: Sequence[int] | None = None) -> None:
        if article_ids is None:
            s.execute(text("DELETE FROM kb_fts"))
            rows = s.execute(text("SELECT id, title, tags, plain_text FROM kb_articles")).all()
        else:
            if not article_ids:
                return
            ids = list(article_ids)
            s.execute(
                text("DELETE FROM kb_fts WHERE rowid IN :ids").bindparams(bindparam("ids", expanding=True)),
                {"ids": ids},
            )
            rows = s.execute(
                text("SELECT id, title, tags, plain_text FROM kb_articles WHERE id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": ids},
            ).all()
        payload = [
            {
                "id": r[0],
                "title": " ".join(kbtext.stems(f"{r[1]} {r[2] or ''}")),
                "body": " ".join(kbtext.stems(r[3] or "")),
            }
            for r in rows
        ]
        if payload:
            s.execute(text("INSERT INTO kb_fts(rowid, title, body) VALUES (:id, :title, :body)"), payload)

    def search(
        self, s: Session, query: str, *, lang: str | None, limit: int, any_word: bool = False
    ) -> list[tuple[int, float]]:
        terms = list(dict.fromkeys(kbtext.stems(query)))
        if not terms:
            return []
        # stems hold only letters and digits; quoting keeps FTS5 query syntax out of user input anyway
        match = (" OR " if any_word else " AND ").join(f'"{t}"' for t in terms)
        sql = (
            "SELECT a.id, -f.rank AS score FROM "
            f"(SELECT rowid AS id, bm25(kb_fts, 5.0, 1.0) AS rank FROM kb_fts WHERE kb_fts MATCH :match "
            f"LIMIT {RANK_CANDIDATES}) f JOIN kb_articles a ON a.id = f.id "
            f"WHERE 1 = 1 {_filters(lang)} ORDER BY f.rank, a.id LIMIT :limit"
        )
        params: dict[str, object] = {"match": match, "limit": limit}
        if lang:
            params["lang"] = lang
        return [(int(r[0]), float(r[1])) for r in s.execute(text(sql), params)]


def index_for(dialect: str) -> SearchIndex:
    if dialect == "postgresql":
        return PostgresIndex()
    if dialect == "sqlite":
        return SqliteIndex()
    raise ValueError(f"no knowledge-base index for database {dialect!r}")
