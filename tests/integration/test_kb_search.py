"""The knowledge base on real databases (SQLite FTS5 and PostgreSQL full-text search): morphology in
Russian and English, typo tolerance, sanitised articles, versions, stale edits, call scripts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from billing_adapter.memory import make_card
from knowledge_base.scripts import BadScript
from knowledge_base.seed import seed, seed_articles
from tests.conftest import emptied, migrated_database
from workstation.errors import Conflict
from workstation.kb.models import KbArticle
from workstation.kb.service import BadArticle, KnowledgeBase

KB_TABLES = ("kb_article_topics", "kb_article_versions", "kb_articles", "kb_scripts")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db_url(request: Any, tmp_path_factory: Any) -> Iterator[str]:
    yield from migrated_database(request, tmp_path_factory, "kb")


@pytest.fixture
def kb(db_url: str) -> Iterator[KnowledgeBase]:
    fts = ("kb_fts",) if db_url.startswith("sqlite") else ()  # SQLite's full-text index is a table
    with emptied(db_url, (*KB_TABLES, *fts)) as db:
        knowledge = KnowledgeBase(db)
        seed(knowledge)
        yield knowledge


def slugs(result: dict[str, Any]) -> list[tuple[str, str]]:
    return [(i["slug"], i["lang"]) for i in result["items"]]


def test_seed_adds_every_shipped_article_and_script_once(kb: KnowledgeBase) -> None:
    assert len(kb.list_articles(limit=1000)) == len(seed_articles())
    again = seed(kb)
    assert again.articles_added == 0
    assert again.scripts_added == 0
    topics = {t for a in kb.list_articles(limit=1000) for t in a["topics"]}
    assert {
        "mobile_data",
        "no_network",
        "sms_problem",
        "roaming",
        "number_porting",
        "sim_replacement",
    } <= topics


@pytest.mark.parametrize(
    ("query", "lang", "expected"),
    [
        ("настройки интернета", "ru", "mobile-data-apn"),  # inflected forms of "настройка", "интернет"
        ("смс не приходят", "ru", "sms-not-delivered"),
        ("перенести номер", "ru", "number-porting"),
        ("замена сим-карты", "ru", "sim-replacement"),
        ("APN setting", "en", "mobile-data-apn"),  # "setting" meets "settings"
        ("messages not delivered", "en", "sms-not-delivered"),
        ("replacing a SIM", "en", "sim-replacement"),
    ],
)
def test_search_understands_word_forms(kb: KnowledgeBase, query: str, lang: str, expected: str) -> None:
    assert slugs(kb.search(query, lang=lang))[0] == (expected, lang)


def test_short_query_with_a_typo_still_finds_the_article(kb: KnowledgeBase) -> None:
    result = kb.search("роуменг", lang="ru")
    assert result["corrected"] == "роуминг"
    assert slugs(result)[0] == ("roaming", "ru")
    assert slugs(kb.search("roamng", lang="en"))[0] == ("roaming", "en")


def test_query_syntax_in_user_input_is_just_text(kb: KnowledgeBase) -> None:
    for q in ['"apn" OR *', "apn' or 1=1 --", "NEAR(apn", "a & | ! b", "<script>"]:
        kb.search(q)  # no error, whatever it finds


def test_article_with_injected_html_is_stored_sanitised_and_versioned(kb: KnowledgeBase) -> None:
    a = kb.create_article(
        {
            "slug": "evil",
            "lang": "en",
            "title": "VoLTE tips",
            "body_md": "Hi <script>alert(1)</script> [x](javascript:alert(2))",
            "topics": ["roaming"],
        }
    )
    assert "<script" not in a["body_html"]
    assert "&lt;script&gt;" in a["body_html"]
    assert 'href="javascript' not in a["body_html"]
    edited = kb.update_article(a["id"], {"body_md": "Switch on **VoLTE**"}, expected_version=a["version"])
    assert edited["version"] == a["version"] + 1
    assert "<strong>VoLTE</strong>" in edited["body_html"]
    assert [v["version"] for v in kb.versions(a["id"])] == [1, 2]
    assert ("evil", "en") in slugs(kb.search("volte switch", lang="en"))


def test_stale_article_edit_is_a_conflict_and_keeps_the_newer_text(kb: KnowledgeBase) -> None:
    a = kb.create_article({"slug": "stale", "lang": "ru", "title": "Т", "body_md": "первая версия"})
    kb.update_article(a["id"], {"body_md": "вторая версия"}, expected_version=1)
    with pytest.raises(Conflict) as exc:
        kb.update_article(a["id"], {"body_md": "правка со старого экрана"}, expected_version=1)
    assert exc.value.error_id == "stale_version"
    assert kb.get_article(a["id"])["body_md"] == "вторая версия"


def test_bad_articles_are_refused_and_nothing_is_saved(kb: KnowledgeBase) -> None:
    before = len(kb.list_articles(include_archived=True, limit=1000))
    for bad in [
        {"slug": "x", "title": "", "body_md": "b"},
        {"slug": "Bad Slug", "title": "t", "body_md": "b"},
        {"slug": "x", "title": "t", "body_md": "b", "topics": ["<b>"]},
        {"slug": "x", "title": "t", "body_md": "b", "lang": "de"},
    ]:
        with pytest.raises(BadArticle):
            kb.create_article(bad)
    with pytest.raises(Conflict):
        kb.create_article({"slug": "roaming", "lang": "ru", "title": "t", "body_md": "b"})
    assert len(kb.list_articles(include_archived=True, limit=1000)) == before


def test_archived_articles_leave_search(kb: KnowledgeBase) -> None:
    with kb.db.session() as s:
        row = s.scalars(select(KbArticle).where(KbArticle.slug == "roaming", KbArticle.lang == "ru")).one()
        rid, version = row.id, row.version
    kb.set_archived(rid, True, expected_version=version)
    assert ("roaming", "ru") not in slugs(kb.search("роуминг", lang="ru"))


def test_operator_panel_fills_the_script_from_the_card(kb: KnowledgeBase) -> None:
    card = make_card(first_name="Анна", balance=-12.3, tariff="Смарт")
    panel = kb.topic_panel("mobile_data", "ru", card, operator_name="Ольга")
    assert panel["script"]["filled"].startswith("Анна, здравствуйте! Меня зовут Ольга")
    assert "баланс -12,30\u00a0₽, тариф" in panel["script"]["filled"]  # as the card shows it
    assert ("mobile-data-apn", "ru") in [(a["slug"], a["lang"]) for a in panel["articles"]][:2]
    en = kb.topic_panel("roaming", "en", card)
    assert en["script"]["lang"] == "en"
    assert en["articles"][0]["lang"] == "en"


def test_script_with_unknown_placeholder_is_refused_on_save(kb: KnowledgeBase) -> None:
    current = kb.get_script("roaming", "ru")
    assert current is not None
    with pytest.raises(BadScript) as exc:
        kb.save_script(
            "roaming", "ru", "t", "Здравствуйте, {passport_number}!", expected_version=current["version"]
        )
    assert exc.value.details["unknown"] == ["passport_number"]
    assert kb.get_script("roaming", "ru") == current


def test_stale_script_edit_is_a_conflict(kb: KnowledgeBase) -> None:
    current = kb.get_script("sms_problem", "en")
    assert current is not None
    kb.save_script("sms_problem", "en", "SMS", "Hello {first_name}", expected_version=current["version"])
    with pytest.raises(Conflict):
        kb.save_script("sms_problem", "en", "SMS", "Hi {first_name}", expected_version=current["version"])
    assert kb.get_script("sms_problem", "en")["body"] == "Hello {first_name}"  # type: ignore[index]
