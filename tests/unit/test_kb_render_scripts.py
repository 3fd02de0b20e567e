"""Articles render to safe HTML; call scripts accept only card-field placeholders and fill them."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from billing_adapter.memory import make_card
from knowledge_base import scripts as kbscripts
from knowledge_base.render import ALLOWED_TAGS, plain_text, render_markdown


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """The elements a browser would build from ``html`` (tag, attributes)."""
    found: list[tuple[str, dict[str, str | None]]] = []

    class P(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, dict(attrs)))

    P().feed(html)
    return found


@pytest.mark.parametrize(
    "evil",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=//evil.example></iframe>",
        '<svg onload="alert(1)"></svg>',
    ],
)
def test_markdown_with_injected_html_renders_without_anything_executable(evil: str) -> None:
    html = render_markdown(f"Before\n\n{evil}\n\nAfter")
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS
        assert not any(a.startswith("on") for a in attrs)
        assert not (attrs.get("href") or "").lower().startswith("javascript")
    assert "Before" in html
    assert "After" in html


def test_markdown_keeps_tables_code_and_safe_links() -> None:
    html = render_markdown("| a | b |\n|---|---|\n| `apn` | [site](https://example.org) |")
    assert "<table>" in html
    assert "<code>apn</code>" in html
    assert 'href="https://example.org"' in html
    assert 'rel="noopener noreferrer"' in html


def test_plain_text_drops_tags_and_decodes_entities() -> None:
    assert plain_text(render_markdown("**APN** & <b>x</b>")) == "APN & <b>x</b>"


def test_script_placeholders_are_card_fields() -> None:
    assert kbscripts.placeholders("{first_name}, ваш баланс {balance} руб. {first_name}") == [
        "first_name",
        "balance",
    ]


@pytest.mark.parametrize("body", ["Hello {frist_name}", "{balance.__class__}", "{0}", "{card[name]}", "{ }"])
def test_unknown_or_malformed_placeholder_is_refused_with_its_name(body: str) -> None:
    with pytest.raises(kbscripts.BadScript) as exc:
        kbscripts.validate_script("t", body)
    assert exc.value.error_id == "unknown_placeholder"
    assert exc.value.details["unknown"]


def test_unbalanced_brace_is_refused() -> None:
    with pytest.raises(kbscripts.BadScript, match="brace"):
        kbscripts.validate_script("t", "Hello {first_name")


def test_script_is_filled_from_the_card_with_money_and_missing_values_readable() -> None:
    card = make_card(first_name="Анна", balance=-42.5, tariff="Смарт")
    values = kbscripts.card_values(card, operator_name=None)
    out = kbscripts.fill(
        "{first_name}, баланс {balance}, тариф {tariff}, {operator_name} {{literal}}", values
    )
    assert out == "Анна, баланс -42,50\u00a0₽, тариф Смарт, — {literal}"


def test_script_money_number_and_date_read_as_on_the_card_in_the_scripts_language() -> None:
    from datetime import date

    card = make_card(msisdn="79010167996", balance=458.64, since=date(2020, 1, 15))
    body = "{msisdn}: {balance} руб., с {since}"  # a script written when money came out bare
    ru = kbscripts.fill(body, kbscripts.card_values(card, lang="ru"))
    assert ru == "+7 901 016-79-96: 458,64\u00a0₽, с 15.01.2020"
    en = kbscripts.fill("{msisdn}: {balance}, since {since}", kbscripts.card_values(card, lang="en"))
    assert en == "+7 901 016-79-96: RUB\u00a0458.64, since 15/01/2020"


def test_script_without_a_card_shows_dashes_not_holes() -> None:
    assert kbscripts.fill("{first_name}!", kbscripts.card_values(None)) == "—!"


def test_sanitiser_strips_scripts_handlers_and_javascript_links_from_raw_html() -> None:
    from knowledge_base.render import sanitise_html

    html = sanitise_html(
        '<p onclick="x()">hi<script>alert(1)</script><a href="javascript:alert(1)">l</a></p>'
    )
    assert elements(html) == [("p", {}), ("a", {"rel": "noopener noreferrer"})]
    assert "alert" not in html
