"""A worker process of the server's, speaking one JSON line each way over its stdin and stdout
(password hashing, the call writer's drain). Started with ``python -c``, not ``multiprocessing``: that
would import the server's main module again in the worker and run threads of its own here. Standard
library only, so that a worker imports no more than its own module needs."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = str(Path(__file__).resolve().parents[1])


def spawn(module: str, function: str) -> subprocess.Popen[bytes]:
    """A child Python running ``module.function()`` (its ``serve`` loop), its stdin and stdout piped."""
    code = f"import sys; sys.path.insert(0, {ROOT!r}); from {module} import {function}; {function}()"
    return subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0
    )


def serve(handle: Callable[[dict[str, Any]], dict[str, Any]], niceness: int) -> None:
    """The worker's loop, ``niceness`` below the server: each request line to ``handle``, its reply one line
    back; an exception of ``handle`` is replied as ``{"error": its class name}`` and the loop goes on. Ends
    when stdin closes (the server is gone or closed it)."""
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):  # not permitted in some containers: it still runs apart
            os.nice(niceness)
    for line in sys.stdin:
        try:
            reply = handle(json.loads(line))
        except Exception as exc:  # reported, the process goes on
            reply = {"error": type(exc).__name__}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
