"""The session cookie a sign-in sets, made without signing in (benchmarks and tests open thousands of
sessions at once with ``workstation.sessions.open_sessions``)."""

from __future__ import annotations

import base64
import json


def session_cookie(secret_key: str, token: str) -> str:
    """What Starlette's SessionMiddleware sets after a sign-in: the same signer and the same payload, the
    server-side session's token (the value of the ``ws_session`` cookie)."""
    from itsdangerous import TimestampSigner

    data = base64.b64encode(json.dumps({"sid": token}).encode())
    return TimestampSigner(secret_key).sign(data).decode()
