"""Attachments: a size limit and types checked by content."""

from __future__ import annotations

import pytest

from workstation.errors import TooLarge
from workstation.tickets.attachments import (
    MAX_ATTACHMENT_BYTES,
    BadAttachment,
    check_attachment,
    clean_filename,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def test_png_screenshot_is_accepted_with_its_hash() -> None:
    f = check_attachment("screen.png", "image/png", PNG)
    assert f.content_type == "image/png"
    assert f.size == len(PNG)
    assert len(f.sha256) == 64


def test_huge_file_is_refused_with_the_limit() -> None:
    with pytest.raises(TooLarge) as exc:
        check_attachment("big.pdf", "application/pdf", b"%PDF-" + b"0" * MAX_ATTACHMENT_BYTES)
    assert exc.value.status == 413
    assert exc.value.details["limit"] == MAX_ATTACHMENT_BYTES


def test_html_disguised_as_png_is_refused() -> None:
    with pytest.raises(BadAttachment, match="not image/png"):
        check_attachment("x.png", "image/png", b"<html><script>alert(1)</script>")


def test_executable_types_are_refused() -> None:
    with pytest.raises(BadAttachment, match="not accepted"):
        check_attachment("x.html", "text/html", b"<script>")


def test_filenames_lose_paths_and_control_characters() -> None:
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename('C:\\tmp\\a"<b>.txt') == "a__b_.txt"
    assert clean_filename("") == "file"
