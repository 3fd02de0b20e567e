"""The supervisor's floor shows each operator's real state (issue 12, point 9): a connected operator who
paused reads "Перерыв", never "Не в сети" — whichever node their tab reached, and before the call writer
has stored the change."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.apphelpers import Serve, ServerThread, add_user, make_container, sign_in_page
from workstation.app import create_app

ROW = "#operators tr[data-user='{}'] td:nth-child(3)"


def signed_in_operator(browser: Browser, url: str) -> Page:
    op = browser.new_context(locale="ru-RU").new_page()
    sign_in_page(op, url, "op1")
    op.wait_for_selector("#ws-indicator[data-state=online]")
    return op


def floor_page(browser: Browser, url: str) -> Page:
    sup = browser.new_context(locale="ru-RU").new_page()
    sign_in_page(sup, url, "sup", "supervisor.html")
    return sup


def wait_floor_reads(sup: Page, uid: int, text: str) -> None:
    """The floor table's status cell for the operator reads ``text`` (the floor refreshes live)."""
    sup.wait_for_function(
        "([sel, text]) => document.querySelector(sel)?.textContent === text", arg=[ROW.format(uid), text]
    )


def test_an_operator_on_another_node_reads_paused_not_offline(
    browser: Browser, serve: Serve, tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    # two server nodes on one database and one Redis bus; the operator's tab on A, the supervisor's on B
    node = {"bus_url": redis_url, "redis_prefix": redis_prefix}
    a = serve(make_container(tmp_path, **node))
    op_id = add_user(a.container, "op1", display_name="Ольга", interface="PJSIP/1001", extension="1001")
    add_user(a.container, "sup", role="supervisor", display_name="Светлана")
    b = serve(make_container(tmp_path, **node))
    op = signed_in_operator(browser, a.url)
    sup = floor_page(browser, b.url)
    wait_floor_reads(sup, op_id, "Готов")
    op.select_option("#presence", "paused")
    wait_floor_reads(sup, op_id, "Перерыв")
    op.context.close()  # the tab goes: now the operator is off the floor
    wait_floor_reads(sup, op_id, "Не в сети")


def test_the_floor_shows_a_pause_the_writer_has_not_stored_yet(
    browser: Browser, serve: Serve, tmp_path: Path
) -> None:
    # the writer drains in its thread here, so that the test can hold its batches back
    srv = serve(make_container(tmp_path, writer_process=False))
    op_id = add_user(srv.container, "op1", display_name="Ольга", interface="PJSIP/1001", extension="1001")
    add_user(srv.container, "sup", role="supervisor", display_name="Светлана")
    op = signed_in_operator(browser, srv.url)
    sup = floor_page(browser, srv.url)
    wait_floor_reads(sup, op_id, "Готов")
    # the workstation DB is slow: the call writer's next batch waits (as under load), the change is on the bus
    writer = srv.container.calls.writer
    slow, apply = threading.Event(), writer.drainer.apply

    def slow_apply(ops: list[Any]) -> None:
        slow.wait(30)
        apply(ops)

    writer.drainer.apply = slow_apply  # type: ignore[method-assign]
    try:
        op.select_option("#presence", "paused")
        wait_floor_reads(sup, op_id, "Перерыв")
        # the wallboard on the same page agrees
        sup.wait_for_selector(f"#wb-operators tr[data-user='{op_id}'][data-state=paused]")
    finally:
        slow.set()
        writer.drainer.apply = apply  # type: ignore[method-assign]


def test_a_paused_operator_is_still_paused_on_the_wallboard_after_a_server_restart(
    browser: Browser, serve: Serve, tmp_path: Path
) -> None:
    srv = serve(make_container(tmp_path))
    op_id = add_user(srv.container, "op1", display_name="Ольга", interface="PJSIP/1001", extension="1001")
    add_user(srv.container, "sup", role="supervisor", display_name="Светлана")
    op = signed_in_operator(browser, srv.url)
    op.select_option("#presence", "paused")
    sup = floor_page(browser, srv.url)
    sup.wait_for_selector(f"#wb-operators tr[data-user='{op_id}'][data-state=paused]")
    # the server restarts (its live state gone); the operator's tab reconnects by itself, still on a break
    srv.__exit__(None, None, None)
    op.wait_for_selector("#ws-indicator[data-state=offline]")
    back = ServerThread(create_app(make_container(tmp_path)), port=srv.port).__enter__()
    try:
        op.wait_for_selector("#ws-indicator[data-state=online]", timeout=20000)
        assert op.input_value("#presence") == "paused"
        sup.reload()
        sup.wait_for_selector(f"#wb-operators tr[data-user='{op_id}'][data-state=paused]")
        assert "Перерыв" in sup.inner_text(f"#wb-operators tr[data-user='{op_id}']")
        # the row follows the operators' states, the tile the board's next frame: wait for it, don't read it once
        expect(sup.locator("#wb-agents-paused")).to_have_text("1")
        wait_floor_reads(sup, op_id, "Перерыв")
    finally:
        back.__exit__(None, None, None)
