"""Knowledge-base routes: search and the topic panel (operators, support), article and call-script
editing (supervisors). Thin: validate, call ``KnowledgeBase``, return."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from knowledge_base.scripts import ALLOWED_PLACEHOLDERS
from workstation import audit
from workstation.api.deps import BillingDep, DbDep, RowId, require_roles
from workstation.api.feature_deps import KnowledgeBaseDep
from workstation.models import User

router = APIRouter(prefix="/api/kb", tags=["kb"])

Reader = Annotated[User, Depends(require_roles("operator", "tech_support", "supervisor"))]
Editor = Annotated[User, Depends(require_roles("supervisor"))]
Lang = Literal["ru", "en"]


class ArticleIn(BaseModel):
    slug: str = Field(max_length=128)
    lang: Lang = "ru"
    title: str = Field(max_length=256)
    body_md: str = Field(max_length=200_000)
    topics: list[str] = Field(default_factory=list, max_length=20)
    tags: list[str] = Field(default_factory=list, max_length=20)


class ArticleEdit(BaseModel):
    version: int
    slug: str | None = Field(default=None, max_length=128)
    lang: Lang | None = None
    title: str | None = Field(default=None, max_length=256)
    body_md: str | None = Field(default=None, max_length=200_000)
    topics: list[str] | None = Field(default=None, max_length=20)
    tags: list[str] | None = Field(default=None, max_length=20)


class ArchiveIn(BaseModel):
    version: int
    archived: bool = True


class ScriptIn(BaseModel):
    title: str = Field(max_length=256)
    body: str = Field(max_length=20_000)
    version: int | None = Field(default=None, description="null to create; the current version to edit")


@router.get("/search")
async def search(
    kb: KnowledgeBaseDep,
    user: Reader,
    q: Annotated[str, Query(max_length=200)],
    lang: Lang | None = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> dict[str, Any]:
    return await asyncio.to_thread(kb.search, q, lang=lang, limit=limit)


@router.get("/topic/{topic}")
async def topic_panel(
    topic: str,
    billing: BillingDep,
    db: DbDep,
    kb: KnowledgeBaseDep,
    user: Reader,
    subscriber_id: str | None = None,
    lang: Lang | None = None,
) -> dict[str, Any]:
    """The cheat sheets of a topic and its call script filled from the subscriber's card."""
    card = None
    if subscriber_id:
        lookup = await billing.get_card(subscriber_id)
        card = lookup.card
        if card is not None:
            await audit.record_async(
                db,
                user_id=user.id,
                action="card.script",
                subject=subscriber_id,
                details={"topic": topic[:64]},
            )
    return await asyncio.to_thread(
        kb.topic_panel, topic, lang or user.language or "ru", card, user.display_name
    )


@router.get("/articles")
async def list_articles(
    kb: KnowledgeBaseDep,
    user: Reader,
    topic: str | None = None,
    lang: Lang | None = None,
    include_archived: bool = False,
) -> dict[str, Any]:
    return {
        "articles": await asyncio.to_thread(
            kb.list_articles, topic=topic, lang=lang, include_archived=include_archived, limit=500
        )
    }


@router.get("/articles/{article_id}")
async def get_article(article_id: RowId, kb: KnowledgeBaseDep, user: Reader) -> dict[str, Any]:
    return await asyncio.to_thread(kb.get_article, article_id)


@router.get("/articles/{article_id}/versions")
async def versions(article_id: RowId, kb: KnowledgeBaseDep, user: Editor) -> dict[str, Any]:
    return {"versions": await asyncio.to_thread(kb.versions, article_id)}


@router.post("/articles")
async def create_article(body: ArticleIn, kb: KnowledgeBaseDep, user: Editor) -> dict[str, Any]:
    return await asyncio.to_thread(kb.create_article, body.model_dump(), user.id)


@router.put("/articles/{article_id}")
async def update_article(
    article_id: RowId, body: ArticleEdit, kb: KnowledgeBaseDep, user: Editor
) -> dict[str, Any]:
    data = body.model_dump(exclude={"version"}, exclude_none=True)
    return await asyncio.to_thread(kb.update_article, article_id, data, body.version, user.id)


@router.post("/articles/{article_id}/archive")
async def archive(article_id: RowId, body: ArchiveIn, kb: KnowledgeBaseDep, user: Editor) -> dict[str, Any]:
    return await asyncio.to_thread(kb.set_archived, article_id, body.archived, body.version, user.id)


@router.get("/scripts")
async def list_scripts(kb: KnowledgeBaseDep, user: Editor) -> dict[str, Any]:
    return {
        "scripts": await asyncio.to_thread(kb.list_scripts),
        "placeholders": sorted(ALLOWED_PLACEHOLDERS),
    }


@router.put("/scripts/{topic}/{lang}")
async def save_script(
    topic: str, lang: Lang, body: ScriptIn, kb: KnowledgeBaseDep, user: Editor
) -> dict[str, Any]:
    """Create or edit a topic's script; an unknown ``{placeholder}`` is refused (422) and nothing is saved."""
    return await asyncio.to_thread(kb.save_script, topic, lang, body.title, body.body, body.version, user.id)
