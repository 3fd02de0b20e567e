"""Starting content: technical articles (Russian and English) and call scripts, shipped as data.

Articles are ``seed/articles/<slug>.<lang>.md`` with a YAML front matter (slug, lang, title, topics,
tags); scripts are ``seed/scripts.yaml``. Seeding is idempotent: what already exists is left alone,
so supervisors' edits are never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

SEED_DIR = Path(__file__).with_name("seed")


@dataclass
class SeedResult:
    articles_added: int = 0
    scripts_added: int = 0


def load_article(path: Path) -> dict[str, Any]:
    raw = path.read_text(encoding="utf-8")
    if not raw.startswith("---\n"):
        raise ValueError(f"{path.name}: no front matter")
    head, body = raw[4:].split("\n---\n", 1)
    meta = yaml.safe_load(head)
    return {**meta, "body_md": body.lstrip("\n")}


def seed_articles() -> list[dict[str, Any]]:
    return [load_article(p) for p in sorted((SEED_DIR / "articles").glob("*.md"))]


def seed_scripts() -> list[dict[str, Any]]:
    return list(yaml.safe_load((SEED_DIR / "scripts.yaml").read_text(encoding="utf-8")))


class ContentStore(Protocol):
    """What seeding needs of the knowledge base (``workstation.kb.service.KnowledgeBase``)."""

    def list_articles(self, *, include_archived: bool = ..., limit: int = ...) -> list[dict[str, Any]]: ...

    def create_article(self, data: dict[str, Any]) -> dict[str, Any]: ...

    def list_scripts(self) -> list[dict[str, Any]]: ...

    def save_script(self, topic: str, lang: str, title: str, body: str) -> dict[str, Any]: ...


def seed(kb: ContentStore) -> SeedResult:
    """Add the shipped articles and scripts that are not there yet."""
    result = SeedResult()
    have = {(a["slug"], a["lang"]) for a in kb.list_articles(include_archived=True, limit=100_000)}
    for art in seed_articles():
        if (art["slug"], art["lang"]) not in have:
            kb.create_article(art)
            result.articles_added += 1
    scripts = {(s["topic"], s["lang"]) for s in kb.list_scripts()}
    for sc in seed_scripts():
        if (sc["topic"], sc["lang"]) not in scripts:
            kb.save_script(sc["topic"], sc["lang"], sc["title"], sc["body"].rstrip("\n"))
            result.scripts_added += 1
    return result
