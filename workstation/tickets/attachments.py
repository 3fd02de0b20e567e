"""Attachment rules: a size limit and a short list of types, checked by content, not by the name.

The declared content type must be allowed and the file's first bytes must match it (a PNG must start
like a PNG), so an HTML page renamed ``screenshot.png`` is refused. Downloads are served with the
stored type and ``Content-Disposition: attachment``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from workstation.errors import DomainError, TooLarge

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_ATTACHMENTS_PER_TICKET = 20

# content type -> magic prefixes (None: text, checked as UTF-8)
ALLOWED_TYPES: dict[str, tuple[bytes, ...] | None] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
    "text/plain": None,
    "text/csv": None,
}


class BadAttachment(DomainError):
    status = 415
    error_id = "bad_attachment"


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    size: int
    sha256: str


def clean_filename(name: str) -> str:
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r"[\x00-\x1f\x7f\"<>|:*?]", "_", name).strip(" .")
    return (name or "file")[:255]


def check_attachment(filename: str, content_type: str, data: bytes) -> CheckedFile:
    """Validate one upload; raises TooLarge (413) or BadAttachment (415) with the reason."""
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise TooLarge(
            f"the file is {len(data) / 1048576:.1f} MiB; at most {MAX_ATTACHMENT_BYTES // 1048576} MiB per file",
            error_id="attachment_too_large",
            details={"size": len(data), "limit": MAX_ATTACHMENT_BYTES},
        )
    if not data:
        raise BadAttachment("the file is empty", error_id="attachment_empty")
    if ctype not in ALLOWED_TYPES:
        raise BadAttachment(
            f"files of type {ctype or 'unknown'} are not accepted",
            error_id="attachment_type",
            details={"allowed": sorted(ALLOWED_TYPES)},
        )
    magics = ALLOWED_TYPES[ctype]
    if magics is None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise BadAttachment("a text file must be UTF-8 text", error_id="attachment_not_utf8") from None
    elif not any(data.startswith(m) for m in magics):
        raise BadAttachment(
            f"the file's content is not {ctype}", error_id="attachment_content", details={"declared": ctype}
        )
    return CheckedFile(clean_filename(filename), ctype, len(data), hashlib.sha256(data).hexdigest())
