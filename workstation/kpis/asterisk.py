"""Asterisk's own queue statistics recomputed from our call facts, to check that we agree with the PBX.

``app_queue`` reports ``Holdtime`` and ``TalkTime`` as exponential averages (``(3·old + new) >> 2`` on
whole seconds, updated at each answer and each completed call), ``Completed`` counted when the call ends
and ``ServicelevelPerf`` / ``ServicelevelPerf2`` since the queue was loaded (see ``telephony.sim_queue``).
Our board reports arithmetic means over a window instead; this module gives the PBX's figures from the same
facts, for the comparison (a fold in event order: an exponential average cannot be a SQL ``SUM``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from workstation.kpis.formulas import Fact


def queue_params(facts: Iterable[Fact], servicelevel: int) -> dict[str, Any]:
    """``QueueParams`` of one queue as Asterisk would report them after these calls."""
    events: list[tuple[float, int, Fact]] = []
    for x in facts:
        if x.answered_at is not None and x.wait_s is not None:
            events.append((x.answered_at, 0, x))
            if x.ended_at is not None and x.talk_s is not None:
                events.append((x.ended_at, 1, x))
        elif x.abandoned and x.wait_s is not None and x.ended_at is not None:
            events.append((x.ended_at, 2, x))
    hold = talk = completed = abandoned = completed_insl = abandoned_insl = 0
    for _, kind, x in sorted(events, key=lambda e: (e[0], e[1])):
        wait = x.wait_s or 0
        if kind == 0:
            hold = wait if completed + abandoned == 0 else ((hold << 2) - hold + wait) >> 2
        elif kind == 1:
            completed += 1
            completed_insl += int(wait <= servicelevel)
            talk_s = x.talk_s or 0
            talk = talk_s if completed == 1 else ((talk << 2) - talk + talk_s) >> 2
        else:
            abandoned += 1
            abandoned_insl += int(wait <= servicelevel)
    done = completed + abandoned
    return {
        "Holdtime": hold,
        "TalkTime": talk,
        "Completed": completed,
        "Abandoned": abandoned,
        "ServiceLevel": servicelevel,
        "ServicelevelPerf": round(100 * completed_insl / completed, 1) if completed else 0.0,
        "ServicelevelPerf2": round(100 * (abandoned_insl + completed_insl) / done, 1) if done else 0.0,
    }
