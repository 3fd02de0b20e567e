"""Call scenarios for the simulator, made from the real Asterisk captures in ``../shared/ami-traces``.

A trace is parsed into its event frames with their time offsets; a new call is the same frames with
fresh identities substituted: caller numbers, member interfaces and names, channel names, Uniqueid /
Linkedid, bridge ids. Everything else (header order, the ``Local`` channel pairs, DialState, VarSet…)
stays exactly as Asterisk sent it. When an agent's interface is a phone (``PJSIP/1001``) rather than a
``Local`` channel, the agent's ``;2`` helper half is dropped and ``;1`` becomes ``PJSIP/1001-xxxxxxxx``.
"""

from __future__ import annotations

import itertools
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from telephony.channels import extension_of, parse_name
from telephony.protocol import Frame, get, read_trace

TRACE_FILES = {
    "answered": "queue_answered.txt",
    "ringnoanswer": "queue_ringnoanswer.txt",
    "abandon": "queue_abandon.txt",
    "direct": "direct_call.txt",
    "concurrent": "queue_concurrent.txt",
}
SCENARIOS = (*TRACE_FILES, "ringall", "ringtwice")
LOGIN_NOISE = frozenset({"FullyBooted", "SuccessfulAuth"})
_CALLER = re.compile(r"^\+\d{10,15}$")
_TRACE_CHANNEL = r"Local/[^@\s,;]+@[A-Za-z0-9_]+-[0-9a-f]{8};[12]"
_ID = re.compile(r"^\d+\.\d+$")
_SEQ = itertools.count(0x100)
_UID = itertools.count(1000)

Step = tuple[float, Frame]


@dataclass(frozen=True)
class Template:
    """A trace reduced to its event frames (offset in seconds from the first) and the identities in it."""

    name: str
    steps: tuple[Step, ...]
    callers: tuple[str, ...]
    agents: tuple[tuple[str, str], ...]  # (interface, member name) in order of appearance
    dialled_contexts: frozenset[str] = frozenset()  # non-agent Local contexts (``inbound``)


@dataclass
class CallScript:
    """One playable instance: frames with offsets, and which frames trigger a pop (call_id, agent)."""

    steps: list[Step]
    pop_keys: dict[int, tuple[str, str]] = field(default_factory=dict)  # step index -> key
    call_ids: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.steps[-1][0] if self.steps else 0.0


def default_traces_dir() -> Path:
    """``$AMI_TRACES_DIR`` when set, else the copies of the captures shipped in ``telephony/traces``."""
    env = os.environ.get("AMI_TRACES_DIR")
    return Path(env) if env else Path(__file__).resolve().parent / "traces"


@lru_cache(maxsize=16)
def load_template(path: str, name: str = "") -> Template:
    """Parse a capture file into a Template (cached)."""
    _, frames = read_trace(path)
    steps: list[Step] = []
    first: float | None = None
    last = 0.0
    callers: list[str] = []
    agents: dict[str, str] = {}
    for frame in frames:
        event = get(frame, "Event")
        if not event or event in LOGIN_NOISE:
            continue
        ts = get(frame, "Timestamp")
        if ts:
            first = float(ts) if first is None else first
            last = float(ts) - first
        steps.append((last, frame))
        for k, v in frame:
            if k == "CallerIDNum" and _CALLER.match(v) and v not in callers:
                callers.append(v)
            if k == "Interface" and v not in agents:
                agents[v] = get(frame, "MemberName") or v
    tpl = Template(name or Path(path).stem, tuple(steps), tuple(callers), tuple(agents.items()))
    return Template(tpl.name, tpl.steps, tpl.callers, tpl.agents, frozenset(_dialled_contexts(tpl)))


def ringall_template(ringnoanswer: Template) -> Template:
    """Ring-all, built from the ring-no-answer capture: the second operator's ring is moved to run
    alongside the first; when the second answers, the first gets ``DialEnd CANCEL`` and hangs up
    (what app_queue does for ``strategy=ringall``). No ``AgentRingNoAnswer``."""
    steps = list(ringnoanswer.steps)
    ev = [get(f, "Event") for _, f in steps]
    i_rna = ev.index("AgentRingNoAnswer")
    j2 = next(i for i, (_, f) in enumerate(steps) if i > i_rna and any("1002@agents" in v for _, v in f))
    i_ans = next(
        i
        for i, (_, f) in enumerate(steps)
        if ev[i] == "DialEnd" and "1002@agents" in get(f, "DestChannel") and get(f, "DialStatus") == "ANSWER"
    )
    first_end = [
        s
        for s in steps[i_rna:j2]
        if get(s[1], "Event") != "AgentRingNoAnswer" and get(s[1], "DialStatus") != "NOANSWER"
    ]
    pieces = [steps[:i_rna], steps[j2:i_ans], [steps[i_ans]], first_end, steps[i_ans + 1 :]]
    out: list[Step] = []
    clock = 0.0
    for piece in pieces:
        if not piece:
            continue
        base = piece[0][0]
        start = clock + (0.001 if out else 0.0)
        for off, frame in piece:
            out.append((start + max(0.0, off - base), frame))
        clock = out[-1][0]
    return Template(
        "ringall", tuple(out), ringnoanswer.callers, ringnoanswer.agents, ringnoanswer.dialled_contexts
    )


def template(name: str, traces_dir: Path | None = None) -> Template:
    """The template of a named scenario (``answered``, ``ringnoanswer``, ``abandon``, ``direct``,
    ``concurrent``, ``ringall``, ``ringtwice``: the ring-no-answer capture played with one member for
    both rounds, so the queue rings the same operator twice)."""
    base = traces_dir or default_traces_dir()
    if name == "ringtwice":
        name = "ringnoanswer"
    if name == "ringall":
        return ringall_template(load_template(str(base / TRACE_FILES["ringnoanswer"]), "ringnoanswer"))
    if name not in TRACE_FILES:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    return load_template(str(base / TRACE_FILES[name]), name)


def _dialled_contexts(tpl: Template) -> set[str]:
    """Non-agent contexts of the trace's Local channels (``inbound``)."""
    found = set()
    for _, frame in tpl.steps:
        for _, v in frame:
            m = re.match(rf"^{_TRACE_CHANNEL}$", v)
            if m:
                ctx = v.split("@", 1)[1].rsplit("-", 1)[0]
                if ctx != "agents":
                    found.add(ctx)
    return found


# per rewriting pattern (the same for every call of a scenario with as many agents): the (header, value)
# pairs with nothing to rewrite. Bounded by the traces' own headers; spares the rewriting of most of a
# call's ~1,800 values, which made the simulator, not the workstation, the limit at 100 calls/s
# (benchmarks/screen_pop.py --sweep)
_STATIC: dict[str, set[tuple[str, str]]] = {}


class _Rewriter:
    """Substitutes one call's identities into trace frames."""

    def __init__(self, tpl: Template, callers: list[str], agents: list[tuple[str, str]]) -> None:
        self.tokens: dict[str, str] = {}
        self.exact: dict[str, str] = {}
        self.agent_by_ext: dict[str, str] = {}  # trace extension -> new interface
        self.ids: dict[str, str] = {}
        self.seqs: dict[str, str] = {}
        self.bridges: dict[str, str] = {}
        for old, new in zip(tpl.callers, callers, strict=False):
            self.tokens[old] = new
        for (old_if, old_name), (new_if, new_name) in zip(tpl.agents, agents, strict=False):
            old_ext, new_ext = extension_of(old_if) or "", extension_of(new_if) or ""
            parsed = parse_name(new_if)
            device = parsed.key if parsed else new_if
            resource = new_if[len("Local/") :] if new_if.startswith("Local/") else new_ext
            self.tokens[old_if] = new_if
            self.tokens[old_if[len("Local/") :]] = resource
            self.tokens[old_if.rsplit("/", 1)[0]] = device
            self.tokens[old_name] = new_name
            self.exact[old_ext] = new_ext
            self.agent_by_ext[old_ext] = new_if
            for ctx in tpl.dialled_contexts:  # the caller dialled the extension: Local/1001@inbound
                self.tokens[f"Local/{old_ext}@{ctx}"] = f"Local/{new_ext}@{ctx}"
                self.tokens[f"{old_ext}@{ctx}/n"] = f"{new_ext}@{ctx}/n"
        self.unmapped = {extension_of(i) for i, _ in tpl.agents[len(agents) :]}
        alts = sorted(self.tokens, key=len, reverse=True)
        body = "|".join(re.escape(t) for t in alts) if alts else r"(?!x)x"
        self.rx = re.compile(rf"(?P<chan>{_TRACE_CHANNEL})|(?P<tok>{body})")
        self.drop = False
        self.key = ""
        self.agent_channels: dict[str, str] = {}  # new channel name -> agent interface
        self.epoch = int(time.time())

    def _channel(self, old: str) -> str:
        res, _, rest = old.partition("@")
        exten = res[len("Local/") :]
        ctx_seq, _, half = rest.partition(";")
        ctx, _, seq = ctx_seq.rpartition("-")
        new_seq = self.seqs.setdefault(seq, f"{next(_SEQ) & 0xFFFFFFFF:08x}")
        if exten in self.unmapped and ctx == "agents":
            self.drop = True
            return old
        agent = self.agent_by_ext.get(exten) if ctx == "agents" else None
        if agent is None:
            return f"Local/{self.exact.get(exten, exten)}@{ctx}-{new_seq};{half}"
        parsed = parse_name(agent)
        if parsed is not None and parsed.tech != "Local":
            if half == "2" and self.key in ("Channel", "LocalTwoChannel", "LocalOneChannel"):
                self.drop = True
            name = f"{parsed.key}-{new_seq}"
        else:
            ctx2 = parsed.context if parsed else ctx
            name = f"Local/{extension_of(agent)}@{ctx2}-{new_seq};{half}"
        if half == "1":
            self.agent_channels[name] = agent
        return name

    def _sub(self, m: re.Match[str]) -> str:
        if m.group("chan"):
            return self._channel(m.group("chan"))
        return self.tokens[m.group("tok")]

    def value(self, key: str, value: str) -> str:
        self.key = key
        if key.endswith(("Uniqueid", "Linkedid")) and _ID.match(value) and key != "BridgeUniqueid":
            return self.ids.setdefault(value, f"{self.epoch}.{next(_UID)}")
        if key in ("BridgeUniqueid", "BridgeId") and value:
            return self.bridges.setdefault(value, str(uuid.uuid4()))
        if value in self.exact:
            return self.exact[value]
        if any(a and a in value for a in self.unmapped if a) and "@agents" in value:
            self.drop = True
        elif self.rx.search(value) is None:  # nothing of the trace's identities in it: as it was
            _STATIC.setdefault(self.rx.pattern, set()).add((key, value))
            return value
        return self.rx.sub(self._sub, value)

    def frame(self, frame: Frame) -> Frame | None:
        self.drop = False
        static = _STATIC.get(self.rx.pattern, set())
        out = [(k, v) if (k, v) in static else (k, self.value(k, v)) for k, v in frame]
        return None if self.drop else out


def instantiate(tpl: Template, callers: list[str], agents: list[tuple[str, str]]) -> CallScript:
    """A fresh call from ``tpl`` with the given caller numbers and (interface, name) agents."""
    rw = _Rewriter(tpl, callers, agents)
    script = CallScript(steps=[])
    for off, frame in tpl.steps:
        new = rw.frame(frame)
        if new is None:
            continue
        idx = len(script.steps)
        script.steps.append((off, new))
        event = get(new, "Event")
        call_id = get(new, "Linkedid") or get(new, "Uniqueid")
        if event == "AgentCalled":
            script.pop_keys[idx] = (call_id, get(new, "Interface"))
        elif event == "DialBegin" and get(new, "Channel") and get(new, "Channel") not in rw.agent_channels:
            agent = rw.agent_channels.get(get(new, "DestChannel"))
            if agent is not None:
                script.pop_keys[idx] = (call_id, agent)
        joins = event == "QueueCallerJoin" or (event == "DialBegin" and idx in script.pop_keys)
        if joins and call_id not in script.call_ids:
            script.call_ids.append(call_id)
    script.agents = [a for a, _ in agents]
    return script
