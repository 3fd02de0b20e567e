"""Article validation: what an article must be before it is saved (pure; no database)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from knowledge_base.errors import BadArticle

LANGS = ("ru", "en")
MAX_BODY_CHARS = 200_000
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}$")
CODE = re.compile(r"^[a-z0-9_]{1,64}$")
_TAG = re.compile(r"^[\w -]{1,40}$")


def _clean_list(
    values: Sequence[str] | None, pattern: re.Pattern[str], what: str, limit: int = 20
) -> list[str]:
    out: list[str] = []
    for v in values or []:
        v = str(v).strip().lower()
        if not v:
            continue
        if not pattern.match(v):
            raise BadArticle(
                f"bad {what} {v[:40]!r}: letters, digits, '-' and '_' only",
                error_id="article_bad_topic" if what == "topic" else "article_bad_tag",
                details={"value": v[:40]},
            )
        if v not in out:
            out.append(v)
    if len(out) > limit:
        raise BadArticle(
            f"at most {limit} {what}s",
            error_id="article_too_many_topics" if what == "topic" else "article_too_many_tags",
            details={"max": limit},
        )
    return out


def validate_article(data: dict[str, Any]) -> dict[str, Any]:
    """The article fields cleaned (title, body_md, lang, slug, topics, tags), or ``BadArticle``."""
    title = str(data.get("title") or "").strip()
    body = str(data.get("body_md") or "")
    lang = str(data.get("lang") or "ru")
    slug = str(data.get("slug") or "").strip().lower()
    if not title:
        raise BadArticle("the article needs a title", error_id="article_no_title")
    if len(title) > 256:
        raise BadArticle(
            "the title is longer than 256 characters", error_id="title_too_long", details={"max": 256}
        )
    if not body.strip():
        raise BadArticle("the article is empty", error_id="article_empty")
    if len(body) > MAX_BODY_CHARS:
        raise BadArticle(
            f"the article is longer than {MAX_BODY_CHARS} characters",
            error_id="text_too_long",
            details={"max": MAX_BODY_CHARS},
        )
    if lang not in LANGS:
        raise BadArticle(
            f"language must be one of {', '.join(LANGS)}", error_id="bad_language", details={"lang": lang[:8]}
        )
    if not _SLUG.match(slug):
        raise BadArticle(
            "the slug must be lower-case latin letters, digits and '-'",
            error_id="article_bad_slug",
            details={"slug": slug[:64]},
        )
    topics = _clean_list(data.get("topics"), CODE, "topic")
    tags = _clean_list(data.get("tags"), _TAG, "tag")
    return {"title": title, "body_md": body, "lang": lang, "slug": slug, "topics": topics, "tags": tags}
