"""Markdown → sanitised HTML, and the plain text the search indexes.

Raw HTML in the Markdown is never passed through (markdown-it ``html=False`` escapes it), and the
rendered HTML is then cleaned by nh3 against an allow-list, so neither a ``<script>`` nor a
``javascript:`` link nor an ``onerror=`` attribute can reach a browser.
"""

from __future__ import annotations

import html as html_lib

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "del",
    "s",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
ALLOWED_SCHEMES = {"http", "https", "mailto", "tel"}


def sanitise_html(raw_html: str) -> str:
    """Clean any HTML against the allow-list (links get ``rel="noopener noreferrer"``)."""
    return nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer",
    )


def render_markdown(text: str) -> str:
    """Markdown source → safe HTML for ``innerHTML``."""
    return sanitise_html(_md.render(text or ""))


def plain_text(safe_html: str) -> str:
    """Text content of rendered HTML (tags dropped, entities decoded), for indexing."""
    stripped = nh3.clean(safe_html.replace("<", " <").replace(">", "> "), tags=set())
    return " ".join(html_lib.unescape(stripped).split())
