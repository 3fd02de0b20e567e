"""Every error_id the server can send has a sentence in both UI languages (web/i18n/errors.json).

The ids are read from the source, not listed by hand: every ``error_id=`` argument, every ``error_id = ...``
class attribute and every ``"error_id": ...`` dict entry in the packages. An id computed at run time would
escape this walk, so the walk refuses any value it cannot read as a literal (a conditional between
literals and a dict of literals are fine; forwarding another error's ``exc.error_id`` is fine).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["workstation", "billing_adapter", "telephony", "classifier", "knowledge_base", "anonymizer"]
TABLE = ROOT / "web" / "i18n" / "errors.json"


def _literals(node: ast.expr) -> list[str] | None:
    """The string literals an error_id expression can take, or None if it is not made of literals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        a, b = _literals(node.body), _literals(node.orelse)
        return None if a is None or b is None else a + b
    if isinstance(node, ast.Dict):  # {404: "not_found", ...}
        out: list[str] = []
        for v in node.values:
            got = _literals(v)
            if got is None:
                return None
            out += got
        return out
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        base = _literals(node.func.value)  # {…}.get(status, "bad_request")
        if base is None:
            return None
        return base + [x for a in node.args for x in (_literals(a) or [])]
    return None


def _forwarded(node: ast.expr) -> bool:
    """``exc.error_id`` / a parameter named error_id: passes on an id found elsewhere in the walk."""
    return (isinstance(node, ast.Attribute) and node.attr == "error_id") or (
        isinstance(node, ast.Name) and node.id == "error_id"
    )


def error_ids_in_code() -> tuple[dict[str, str], list[str]]:
    ids: dict[str, str] = {}
    unreadable: list[str] = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                values: list[ast.expr] = []
                if isinstance(node, ast.keyword) and node.arg == "error_id":
                    values.append(node.value)
                elif isinstance(node, ast.Assign | ast.AnnAssign):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    if node.value is not None and any(
                        isinstance(t, ast.Name) and t.id == "error_id" for t in targets
                    ):
                        values.append(node.value)
                elif isinstance(node, ast.Dict):
                    values += [
                        v
                        for k, v in zip(node.keys, node.values, strict=True)
                        if isinstance(k, ast.Constant) and k.value == "error_id"
                    ]
                for v in values:
                    where = f"{path.relative_to(ROOT)}:{v.lineno}"
                    got = _literals(v)
                    if got is not None:
                        for x in got:
                            ids.setdefault(x, where)
                    elif not _forwarded(v):
                        unreadable.append(f"{where}: {ast.unparse(v)}")
    return ids, unreadable


def test_the_walk_finds_the_errors_users_met_in_english() -> None:
    ids, _ = error_ids_in_code()
    # the messages the issue quotes, each under an id of its own now
    for known in ("resolution_required", "ticket_note_required", "article_no_title", "unknown_placeholder"):
        assert known in ids
    assert len(ids) > 100


def test_every_error_id_in_the_code_has_a_translation_in_both_languages() -> None:
    ids, unreadable = error_ids_in_code()
    assert not unreadable, f"error_id values the test cannot read: {unreadable}"
    table = json.loads(TABLE.read_text(encoding="utf-8"))["errors"]
    missing = {i: where for i, where in ids.items() if i not in table}
    assert not missing, f"error_ids with no translation in web/i18n/errors.json: {missing}"
    half = [i for i in ids if not (table[i].get("ru", "").strip() and table[i].get("en", "").strip())]
    assert not half, f"error_ids translated in one language only: {half}"


def test_translations_use_only_placeholders_both_languages_share() -> None:
    import re

    table = json.loads(TABLE.read_text(encoding="utf-8"))["errors"]
    for error_id, langs in table.items():
        ru = set(re.findall(r"(?<!\{)\{(\w+)\}(?!\})", langs["ru"]))
        en = set(re.findall(r"(?<!\{)\{(\w+)\}(?!\})", langs["en"]))
        assert ru == en, f"{error_id}: ru uses {ru}, en uses {en}"
