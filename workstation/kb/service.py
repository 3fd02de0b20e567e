"""The knowledge base as the rest of the workstation sees it: articles, search, call scripts.

``KnowledgeBase`` is synchronous (SQLAlchemy sessions); routes call it from a worker thread. Every
write is validated first (``knowledge_base.articles`` / ``knowledge_base.scripts``) and either saved
whole or refused with a ``BadArticle`` / ``BadScript`` naming the problem; an edit carries the version it
was based on, and a stale one is a ``Conflict`` that changes nothing.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from billing_adapter.models import Card
from knowledge_base import scripts as kbscripts
from knowledge_base.articles import CODE, LANGS, validate_article
from knowledge_base.errors import BadArticle, BadScript
from knowledge_base.fuzzy import Vocabulary
from knowledge_base.index import SearchIndex, index_for
from knowledge_base.render import plain_text, render_markdown
from workstation.db import Database, utcnow
from workstation.errors import Conflict, NotFound
from workstation.kb.models import CallScript, KbArticle, KbArticleTopic, KbArticleVersion

__all__ = ["BadArticle", "BadScript", "KnowledgeBase", "article_dict", "script_dict"]

VOCAB_TTL_S = 30.0


def article_dict(a: KbArticle, *, body: bool = True) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": a.id,
        "slug": a.slug,
        "lang": a.lang,
        "title": a.title,
        "topics": a.topics,
        "tags": a.tags,
        "version": a.version,
        "archived": a.archived,
        "updated_at": a.updated_at.isoformat(),
    }
    if body:
        d["body_md"] = a.body_md
        d["body_html"] = a.body_html
    else:
        d["snippet"] = a.plain_text[:240]
    return d


def script_dict(sc: CallScript) -> dict[str, Any]:
    return {
        "id": sc.id,
        "topic": sc.topic_code,
        "lang": sc.lang,
        "title": sc.title,
        "body": sc.body,
        "version": sc.version,
        "updated_at": sc.updated_at.isoformat(),
    }


class KnowledgeBase:
    def __init__(self, db: Database, index: SearchIndex | None = None):
        self.db = db
        self.index = index or index_for(db.dialect)
        self._ready = False
        self._lock = threading.Lock()
        self._vocab: Vocabulary | None = None
        self._vocab_key: tuple[Any, ...] | None = None
        self._vocab_checked = 0.0

    # ------------------------------------------------------------------ index
    def ensure_index(self) -> None:
        """Create the search structures if this database lacks them (migrations create them too)."""
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                with self.db.engine.begin() as conn:
                    self.index.ensure(conn)
                self._ready = True

    def reindex_all(self) -> int:
        self.ensure_index()
        with self.db.session() as s:
            self.index.reindex(s, None)
            n = s.scalar(select(func.count()).select_from(KbArticle)) or 0
        self._vocab = None
        return n

    # ------------------------------------------------------------------ articles
    def _apply(self, s: Session, a: KbArticle, v: dict[str, Any], user_id: int | None) -> None:
        html = render_markdown(v["body_md"])
        a.title, a.body_md, a.body_html = v["title"], v["body_md"], html
        a.plain_text = plain_text(html)
        a.topics, a.tags, a.updated_by, a.updated_at = v["topics"], v["tags"], user_id, utcnow()
        a.slug, a.lang = v["slug"], v["lang"]

    def _after_save(self, s: Session, a: KbArticle, user_id: int | None) -> None:
        s.execute(delete(KbArticleTopic).where(KbArticleTopic.article_id == a.id))
        s.add_all([KbArticleTopic(article_id=a.id, topic_code=t) for t in a.topics])
        s.add(
            KbArticleVersion(
                article_id=a.id,
                version=a.version,
                title=a.title,
                body_md=a.body_md,
                topics=a.topics,
                tags=a.tags,
                edited_by=user_id,
            )
        )
        s.flush()
        self.index.reindex(s, [a.id])
        self._vocab = None

    def create_article(self, data: dict[str, Any], user_id: int | None = None) -> dict[str, Any]:
        v = validate_article(data)
        self.ensure_index()
        with self.db.session() as s:
            if s.scalar(select(KbArticle.id).where(KbArticle.slug == v["slug"], KbArticle.lang == v["lang"])):
                raise Conflict(
                    f"an article {v['slug']} ({v['lang']}) already exists", error_id="duplicate_slug"
                )
            a = KbArticle()
            self._apply(s, a, v, user_id)
            s.add(a)
            s.flush()
            self._after_save(s, a, user_id)
            return article_dict(a)

    def update_article(
        self, article_id: int, data: dict[str, Any], expected_version: int, user_id: int | None = None
    ) -> dict[str, Any]:
        """Save a new version; ``expected_version`` is the one the editor started from."""
        self.ensure_index()
        try:
            with self.db.session() as s:
                a = s.get(KbArticle, article_id)
                if a is None:
                    raise NotFound(f"no article {article_id}", error_id="article_not_found")
                merged = {**article_dict(a), **{k: v for k, v in data.items() if v is not None}}
                v = validate_article(merged)
                if a.version != expected_version:
                    raise self._stale(a.version, expected_version)
                self._apply(s, a, v, user_id)
                s.flush()  # the version guard: a concurrent save makes this raise StaleDataError
                self._after_save(s, a, user_id)
                return article_dict(a)
        except StaleDataError:
            raise self._stale(None, expected_version) from None

    @staticmethod
    def _stale(current: int | None, expected: int) -> Conflict:
        return Conflict(
            "the article was changed by someone else meanwhile: reload it and apply your edit again",
            error_id="stale_version",
            details={"current": current, "expected": expected},
        )

    def set_archived(
        self, article_id: int, archived: bool, expected_version: int, user_id: int | None = None
    ) -> dict[str, Any]:
        try:
            with self.db.session() as s:
                a = s.get(KbArticle, article_id)
                if a is None:
                    raise NotFound(f"no article {article_id}", error_id="article_not_found")
                if a.version != expected_version:
                    raise self._stale(a.version, expected_version)
                a.archived, a.updated_by, a.updated_at = archived, user_id, utcnow()
                s.flush()
                self._vocab = None
                return article_dict(a)
        except StaleDataError:
            raise self._stale(None, expected_version) from None

    def get_article(self, article_id: int) -> dict[str, Any]:
        with self.db.session() as s:
            a = s.get(KbArticle, article_id)
            if a is None:
                raise NotFound(f"no article {article_id}", error_id="article_not_found")
            return article_dict(a)

    def versions(self, article_id: int) -> list[dict[str, Any]]:
        with self.db.session() as s:
            rows = s.scalars(
                select(KbArticleVersion)
                .where(KbArticleVersion.article_id == article_id)
                .order_by(KbArticleVersion.version)
            ).all()
            return [
                {
                    "version": r.version,
                    "title": r.title,
                    "body_md": r.body_md,
                    "topics": r.topics,
                    "tags": r.tags,
                    "edited_by": r.edited_by,
                    "edited_at": r.edited_at.isoformat(),
                }
                for r in rows
            ]

    def list_articles(
        self,
        *,
        topic: str | None = None,
        lang: str | None = None,
        include_archived: bool = False,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        with self.db.session() as s:
            q = select(KbArticle)
            if topic:
                q = q.join(KbArticleTopic, KbArticleTopic.article_id == KbArticle.id).where(
                    KbArticleTopic.topic_code == topic
                )
            if not include_archived:
                q = q.where(KbArticle.archived.is_(False))
            if lang:
                q = q.order_by((KbArticle.lang == lang).desc())
            q = q.order_by(KbArticle.title).limit(limit)
            return [article_dict(a, body=False) for a in s.scalars(q)]

    # ------------------------------------------------------------------ search
    def vocabulary(self) -> Vocabulary:
        now = time.monotonic()
        if self._vocab is not None and now - self._vocab_checked < VOCAB_TTL_S:
            return self._vocab
        with self.db.session() as s:
            key = tuple(
                s.execute(
                    select(func.count(), func.max(KbArticle.updated_at), func.sum(KbArticle.version)).where(
                        KbArticle.archived.is_(False)
                    )
                ).one()
            )
            if self._vocab is None or key != self._vocab_key:
                rows = s.execute(
                    select(KbArticle.title, KbArticle.plain_text).where(KbArticle.archived.is_(False))
                ).all()
                self._vocab = Vocabulary(f"{t} {p}" for t, p in rows)
                self._vocab_key = key
        self._vocab_checked = now
        return self._vocab

    def search(self, query: str, *, lang: str | None = None, limit: int = 10) -> dict[str, Any]:
        """Articles matching ``query`` (all words, else a typo-corrected short query, else any word)."""
        query = (query or "").strip()[:200]
        limit = max(1, min(limit, 50))
        if not query:
            return {"query": query, "corrected": None, "items": []}
        self.ensure_index()
        corrected = None
        with self.db.session() as s:
            hits = self.index.search(s, query, lang=lang, limit=limit)
            if not hits:
                corrected = self.vocabulary().correct(query)
                if corrected:
                    hits = self.index.search(s, corrected, lang=lang, limit=limit)
            if not hits:
                hits = self.index.search(s, corrected or query, lang=lang, limit=limit, any_word=True)
            ids = [h[0] for h in hits]
            rows = {a.id: a for a in s.scalars(select(KbArticle).where(KbArticle.id.in_(ids)))} if ids else {}
            items = [
                {**article_dict(rows[i], body=False), "score": round(score, 4)}
                for i, score in hits
                if i in rows
            ]
        return {"query": query, "corrected": corrected, "items": items}

    # ------------------------------------------------------------------ call scripts
    def list_scripts(self) -> list[dict[str, Any]]:
        with self.db.session() as s:
            return [
                script_dict(sc)
                for sc in s.scalars(select(CallScript).order_by(CallScript.topic_code, CallScript.lang))
            ]

    def get_script(self, topic: str, lang: str = "ru") -> dict[str, Any] | None:
        """The script of a topic in ``lang``, else in any language, else None."""
        with self.db.session() as s:
            rows = s.scalars(select(CallScript).where(CallScript.topic_code == topic)).all()
            rows = sorted(rows, key=lambda r: (r.lang != lang, r.lang))
            return script_dict(rows[0]) if rows else None

    def save_script(
        self,
        topic: str,
        lang: str,
        title: str,
        body: str,
        expected_version: int | None = None,
        user_id: int | None = None,
    ) -> dict[str, Any]:
        """Create (``expected_version`` None) or update a script; unknown placeholders are refused."""
        if not CODE.match(topic or ""):
            raise BadScript("bad topic code", details={"topic": (topic or "")[:64]})
        if lang not in LANGS:
            raise BadScript(f"language must be one of {', '.join(LANGS)}")
        kbscripts.validate_script(title, body)
        try:
            with self.db.session() as s:
                sc = s.scalar(
                    select(CallScript).where(CallScript.topic_code == topic, CallScript.lang == lang)
                )
                if sc is None:
                    if expected_version is not None:
                        raise NotFound(f"no script for {topic} ({lang})", error_id="script_not_found")
                    sc = CallScript(topic_code=topic, lang=lang)
                    s.add(sc)
                elif expected_version is None or sc.version != expected_version:
                    raise Conflict(
                        "the script was changed by someone else meanwhile: reload it",
                        error_id="stale_version",
                        details={"current": sc.version, "expected": expected_version},
                    )
                sc.title, sc.body, sc.updated_by, sc.updated_at = title.strip(), body, user_id, utcnow()
                s.flush()
                return script_dict(sc)
        except StaleDataError:
            raise Conflict(
                "the script was changed by someone else meanwhile: reload it", error_id="stale_version"
            ) from None

    def filled_script(
        self, topic: str, lang: str, card: Card | None, operator_name: str | None = None
    ) -> dict[str, Any] | None:
        sc = self.get_script(topic, lang)
        if sc is None:
            return None
        sc["filled"] = kbscripts.fill(sc["body"], kbscripts.card_values(card, operator_name, lang))
        return sc

    def topic_panel(
        self, topic: str, lang: str, card: Card | None, operator_name: str | None = None
    ) -> dict[str, Any]:
        """What the operator sees for a topic: its cheat sheets and the filled call script."""
        articles = self.list_articles(topic=topic, lang=lang, limit=20)
        same_lang = [a for a in articles if a["lang"] == lang]  # the other language only when none
        return {
            "topic": topic,
            "articles": same_lang or articles,
            "script": self.filled_script(topic, lang, card, operator_name),
        }
