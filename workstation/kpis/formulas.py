"""The definitions of the contact-center figures, in one place (pure functions, no I/O).

Every figure is computed from additive counts, so the wallboard (running sums in memory) and the SQL
reports (``SUM`` over the call facts) share one formula. Times are whole seconds the way Asterisk's
``app_queue`` counts them: the difference of the two ``time()`` readings, i.e. ``floor(end) - floor(start)``.

Attribution: a call belongs to the interval in which it reached the floor (queue join; first ring of a
direct call), and every figure of the call (answer, abandon, talk, after-call work) is counted there, even
when the call or its after-call work ends after midnight.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# How abandoned calls enter the service level (setting ``kpi_sl_abandoned``):
#   missed               met = answered within T;             base = answered + abandoned after the grace time
#   ignored              met = answered within T;             base = answered            (Asterisk ServicelevelPerf)
#   met_within_threshold met = answered or abandoned within T; base = answered + abandoned (Asterisk ServicelevelPerf2)
# In every mode the base also holds the calls still waiting longer than T: they can no longer be met.
ABANDONED_MODES = ("missed", "ignored", "met_within_threshold")

FIELDS = (
    "offered",  # queue calls that reached the floor
    "answered",
    "answered_in_sl",  # answered with wait <= threshold
    "abandoned",  # left unanswered after the grace time
    "abandoned_short",  # left unanswered within the grace time (wait <= grace)
    "abandoned_in_sl",  # left unanswered with wait <= threshold (any length; Asterisk's callsabandonedinsl)
    "wait_answered_s",  # sum of waits of answered calls
    "talked",  # answered calls that have ended (talk time known)
    "talk_s",
    "acw_done",  # calls whose after-call work is over (ACW time known)
    "acw_s",
)
INDEX = {name: i for i, name in enumerate(FIELDS)}
Counts = list[int]


def zero() -> Counts:
    return [0] * len(FIELDS)


def whole_seconds(start: float, end: float) -> int:
    """Seconds between two epoch times as Asterisk counts them (two ``time()`` readings), never negative."""
    return max(0, math.floor(end) - math.floor(start))


@dataclass(frozen=True)
class Rules:
    """The thresholds and settings the figures depend on (from ``Settings.kpi_*``)."""

    threshold_s: int = 20
    queue_thresholds: Mapping[str, int] = field(default_factory=dict)
    short_abandon_s: int = 5
    abandoned: str = "missed"
    sl_target_pct: float = 80.0
    wait_alert_s: int = 60
    long_acw_s: int = 120
    long_pause_s: int = 900

    def __post_init__(self) -> None:
        if self.abandoned not in ABANDONED_MODES:
            raise ValueError(f"kpi_sl_abandoned must be one of {', '.join(ABANDONED_MODES)}")

    def threshold(self, queue: str | None) -> int:
        return int(self.queue_thresholds.get(queue or "", self.threshold_s))

    def as_dict(self) -> dict[str, Any]:
        return {
            "threshold_s": self.threshold_s,
            "queue_thresholds": dict(self.queue_thresholds),
            "short_abandon_s": self.short_abandon_s,
            "abandoned": self.abandoned,
            "sl_target_pct": self.sl_target_pct,
            "wait_alert_s": self.wait_alert_s,
            "long_acw_s": self.long_acw_s,
            "long_pause_s": self.long_pause_s,
        }


@dataclass
class Fact:
    """What is known of one call so far (the live board's unit; the DB row carries the same facts)."""

    call_id: str
    start: float  # epoch of queue join (queue call) or first ring (direct call)
    queue: str | None = None
    operator_id: int | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    wait_s: int | None = None  # to the answer, or to the abandon
    ring_s: int | None = None
    talk_s: int | None = None
    acw_s: int | None = None
    abandoned: bool = False
    offered_to: set[str] = field(default_factory=set)
    asterisk_wait: bool = False  # wait_s is Asterisk's own HoldTime
    asterisk_talk: bool = False
    rolled: tuple[tuple[tuple[int, str, int], ...], list[float]] | None = None  # what the roll-up holds of it

    @property
    def waiting(self) -> bool:
        return self.answered_at is None and not self.abandoned and self.ended_at is None


def contribution(f: Fact, rules: Rules) -> Counts:
    """The counts one call adds to every interval it belongs to."""
    c = zero()
    if f.queue is not None:
        c[0] = 1
        threshold = rules.threshold(f.queue)
        if f.answered_at is not None and f.wait_s is not None:
            c[1] = 1
            c[2] = int(f.wait_s <= threshold)
            c[6] = f.wait_s
        elif f.abandoned and f.wait_s is not None:
            short = f.wait_s <= rules.short_abandon_s
            c[3], c[4] = int(not short), int(short)
            c[5] = int(f.wait_s <= threshold)
    if f.talk_s is not None:
        c[7], c[8] = 1, f.talk_s
    if f.acw_s is not None:
        c[9], c[10] = 1, f.acw_s
    return c


def _ratio(num: float, den: float, scale: float = 1.0, digits: int = 1) -> float | None:
    return round(scale * num / den, digits) if den else None


def service_level(c: Counts, mode: str, waiting_over: int = 0) -> float | None:
    """Service level in percent, or None when no call counts yet (see ``ABANDONED_MODES``)."""
    met = c[2] + (c[5] if mode == "met_within_threshold" else 0)
    base = c[1] + waiting_over
    if mode == "missed":
        base += c[3]
    elif mode == "met_within_threshold":
        base += c[3] + c[4]
    return _ratio(met, base, 100.0)


def figures(c: Counts, rules: Rules, waiting_over: int = 0) -> dict[str, Any]:
    """Every figure of one interval from its counts. Averages are arithmetic means in seconds."""
    avg_talk = _ratio(c[8], c[7])
    avg_acw = _ratio(c[10], c[9])
    out: dict[str, Any] = {name: c[i] for i, name in enumerate(FIELDS)}
    out.update(
        service_level_pct=service_level(c, rules.abandoned, waiting_over),
        waiting_over_threshold=waiting_over,
        asa_s=_ratio(c[6], c[1]),
        abandon_rate_pct=_ratio(c[3], c[0] - c[4], 100.0),
        avg_talk_s=avg_talk,
        avg_acw_s=avg_acw,
        aht_s=round(avg_talk + (avg_acw or 0.0), 1) if avg_talk is not None else None,
    )
    return out


def occupancy(busy_s: float, ready_s: float) -> float | None:
    """Occupancy in percent: time on calls and in after-call work over that time plus time ready."""
    return _ratio(busy_s, busy_s + ready_s, 100.0)


def fcr(resolved: int, total: int) -> float | None:
    """First-contact resolution in percent: records resolved on the call over all finished records
    (resolved, escalated to tech support, or promised a call back)."""
    return _ratio(resolved, total, 100.0)


FORMULAS = {
    "service_level_pct": "SL = met / base × 100; met = answered with wait ≤ T (+ abandoned with wait ≤ T in "
    "mode met_within_threshold); base = answered + calls still waiting > T (+ abandoned after the grace "
    "time in mode missed; + all abandoned in mode met_within_threshold)",
    "asa_s": "ASA = Σ wait of answered calls / answered",
    "aht_s": "AHT = average talk time + average after-call work time",
    "abandon_rate_pct": "abandoned after the grace time / (offered − abandoned within the grace time) × 100",
    "occupancy_pct": "(time on call + after-call work) / (that + time ready) × 100; pauses excluded",
    "fcr_pct": "records resolved on the call / finished records (resolved + escalated + call back) × 100",
}
