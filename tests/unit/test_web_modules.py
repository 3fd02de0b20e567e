"""The browser modules keep to one structure: one `$`, one string table per namespace, CSS in app.css."""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
MODULES = sorted((WEB / "js").glob("*.js"))


def test_no_module_defines_its_own_dollar_helper_or_injects_css() -> None:
    for path in MODULES:
        text = path.read_text(encoding="utf-8")
        if path.name != "core.js":
            assert not re.search(r"const \$ = ", text), f"{path.name} defines its own $"
        assert 'h("style"' not in text, f"{path.name} injects CSS"
        assert 'createElement("style")' not in text, f"{path.name} injects CSS"


def test_pages_carry_no_inline_style_blocks() -> None:
    for page in WEB.glob("*.html"):
        assert "<style" not in page.read_text(encoding="utf-8"), f"{page.name} has its own <style>"


def test_each_string_namespace_is_registered_by_one_module() -> None:
    owners: dict[str, str] = {}
    for path in MODULES:
        for ns in re.findall(r'strings\("([\w-]+)"', path.read_text(encoding="utf-8")):
            assert ns not in owners, f"namespace {ns} registered by {owners[ns]} and {path.name}"
            owners[ns] = path.name
    assert "common" in owners
    assert "ticket" in owners


def test_ticket_vocabulary_lives_in_one_module() -> None:
    for path in MODULES:
        if path.name != "ticket-strings.js":
            assert "ждёт абонента" not in path.read_text(encoding="utf-8"), (
                f"{path.name} copies ticket strings"
            )


def test_supervisor_navigation_is_built_in_one_module() -> None:
    for path in MODULES:
        text = path.read_text(encoding="utf-8")
        if path.name != "supervisor-nav.js":
            assert 'href: "/supervisor-requests.html"' not in text, (
                f"{path.name} builds supervisor navigation"
            )


def test_svg_is_built_by_one_helper() -> None:
    for path in MODULES:
        if path.name != "core.js":
            assert "createElementNS" not in path.read_text(encoding="utf-8"), (
                f"{path.name} builds SVG itself (use svg() from core.js)"
            )
