"""Circuit breaker for the billing: stops hammering a dead billing and probes it back.

closed → (``failure_threshold`` consecutive failures or timeouts) → open → (after ``reset_after_s``)
half_open: one probe call goes through; success closes the breaker, failure opens it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int = 3,
        reset_after_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = max(1, failure_threshold)
        self.reset_after_s = reset_after_s
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.probe_in_flight = False
        self.opened_count = 0

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if self.clock() - self.opened_at >= self.reset_after_s:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        """May a call go to billing now? In half-open, only one probe at a time."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self.probe_in_flight:
            self.probe_in_flight = True
            return True
        return False

    def success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self.probe_in_flight = False

    def failure(self) -> None:
        self.failures += 1
        was_probe = self.probe_in_flight
        self.probe_in_flight = False
        if was_probe or self.failures >= self.failure_threshold:
            if self.opened_at is None or was_probe:
                self.opened_count += 1
            self.opened_at = self.clock()

    def billing_state(self) -> str:
        """For the card's freshness mark: ok | degraded (probing) | unavailable (open)."""
        return {"closed": "ok", "half_open": "degraded", "open": "unavailable"}[self.state]

    def snapshot(self) -> dict[str, object]:
        return {"state": self.state, "consecutive_failures": self.failures, "times_opened": self.opened_count}
