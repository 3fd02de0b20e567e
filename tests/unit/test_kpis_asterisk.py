"""Our figures against Asterisk's own, on the real Asterisk 22 captures (same run, files a…e in order)."""

from __future__ import annotations

from pathlib import Path

from telephony.events import QueueCallTimes
from telephony.normaliser import Normaliser
from telephony.protocol import as_dict, read_trace
from telephony.sim_queue import QueueBook
from workstation.bus.memory import MemoryBus
from workstation.kpis import asterisk
from workstation.kpis.formulas import Rules
from workstation.kpis.service import KpiService

RUN = [
    "queue_answered.txt",
    "queue_ringnoanswer.txt",
    "queue_abandon.txt",
    "direct_call.txt",
    "queue_concurrent.txt",
]


def live_queue_params(traces_dir: Path) -> dict[str, str]:
    """What the real Asterisk answered to QueueStatus right after these captures (actions_live_call.txt)."""
    _, frames = read_trace(traces_dir / "actions_live_call.txt")
    return next(as_dict(f) for f in frames if as_dict(f).get("Event") == "QueueParams")


class Directory:
    def user_for(self, agent: str, extension: str | None = None) -> int | None:
        return {"Local/1001@agents/n": 1, "Local/1002@agents/n": 2}.get(agent)

    def is_agent_number(self, number: str) -> bool:
        return number in ("1001", "1002")


class Writer:
    def put(self, *args: object, **kwargs: object) -> None:
        return None


def test_simulated_queue_statistics_follow_app_queue_on_the_real_run(traces_dir: Path) -> None:
    book = QueueBook()
    for name in RUN:
        for frame in read_trace(traces_dir / name)[1]:
            book.stamp(frame, own_clock=False)
    st = book.queue("support")
    real = live_queue_params(traces_dir)
    # the live capture's own call was answered (not completed) after the run: same averages and counts
    assert (st.completed, st.abandoned, st.holdtime, st.talktime) == (4, 1, 2, 4)
    assert (str(st.completed), str(st.abandoned)) == (real["Completed"], real["Abandoned"])
    assert (str(st.holdtime), str(st.talktime)) == (real["Holdtime"], real["TalkTime"])


def test_our_call_facts_give_asterisks_figures_on_the_real_run(traces_dir: Path) -> None:
    norm = Normaliser()
    svc = KpiService(None, None, MemoryBus(), Writer(), Directory(), Rules(), tz="UTC")  # type: ignore[arg-type]
    times: list[QueueCallTimes] = []
    for name in RUN:
        for frame in read_trace(traces_dir / name)[1]:
            for ev in norm.feed(as_dict(frame)):
                svc.on_call_event(ev)
                if isinstance(ev, QueueCallTimes):
                    times.append(ev)
    facts = [x for x in svc.live.facts.values() if x.queue == "support"]
    waits = sorted((x.wait_s, x.talk_s) for x in facts if x.answered_at is not None)
    # README "Result:" lines: a) 2/3, b) 8/4, e) 2/5 and 2/8; c) abandoned after 7 s
    assert waits == [(2, 3), (2, 5), (2, 8), (8, 4)]
    assert [x.wait_s for x in facts if x.abandoned] == [7]
    assert all(x.asterisk_wait and x.asterisk_talk for x in facts if x.answered_at is not None)
    params = asterisk.queue_params(facts, servicelevel=0)
    real = live_queue_params(traces_dir)
    for key in ("Holdtime", "TalkTime", "Completed", "Abandoned", "ServicelevelPerf", "ServicelevelPerf2"):
        assert str(params[key]) == real[key], key
    direct = [x for x in svc.live.facts.values() if x.queue is None]
    assert len(direct) == 1
    assert direct[0].answered_at is not None
