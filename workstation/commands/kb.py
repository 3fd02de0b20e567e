"""``workstation kb …``: seed the shipped articles and scripts, rebuild the search index, search."""

from __future__ import annotations

import argparse
import json

from workstation.errors import CliError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    kb = sub.add_parser("kb", help="knowledge base: seed, reindex, search")
    ks = kb.add_subparsers(dest="kb_command", required=True)
    p = ks.add_parser("seed", help="add the shipped articles and call scripts that are missing")
    p.set_defaults(handler=cmd_seed)
    p = ks.add_parser("reindex", help="rebuild the full-text index of every article")
    p.set_defaults(handler=cmd_reindex)
    p = ks.add_parser("search", help="search articles as the operator's screen does")
    p.add_argument("query")
    p.add_argument("--lang", choices=["ru", "en"])
    p.add_argument("--limit", type=int, default=10)
    p.set_defaults(handler=cmd_search)


def _kb():  # type: ignore[no-untyped-def]
    from workstation.db import Database
    from workstation.kb.service import KnowledgeBase
    from workstation.settings import load_settings

    url = load_settings().resolved_database_url()
    try:
        kb = KnowledgeBase(Database(url))
        kb.ensure_index()
    except Exception as exc:  # one line naming the problem
        raise CliError(
            f"cannot open the workstation database ({type(exc).__name__}); run `workstation db upgrade`"
        ) from None
    return kb


def cmd_seed(args: argparse.Namespace) -> int:
    from knowledge_base.seed import seed

    result = seed(_kb())
    print(f"articles added: {result.articles_added}, scripts added: {result.scripts_added}")
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    print(f"reindexed {_kb().reindex_all()} articles")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    if not args.query.strip():
        raise CliError("give a query")
    result = _kb().search(args.query, lang=args.lang, limit=max(1, min(args.limit, 50)))
    if result["corrected"]:
        print(f"(searched for: {result['corrected']})")
    for item in result["items"]:
        print(json.dumps({k: item[k] for k in ("id", "slug", "lang", "title", "score")}, ensure_ascii=False))
    return 0
