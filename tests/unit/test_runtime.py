"""The interpreter set for the pop path: background threads yield the CPU to the event loop's thread."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from workstation.runtime import lower_thread_priority


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_a_background_thread_runs_at_a_lower_priority_than_the_rest() -> None:
    seen: dict[str, int] = {}

    def work() -> None:
        lower_thread_priority(10)
        seen["worker"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen["worker"] == min(before + 10, 19)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before  # this thread untouched
