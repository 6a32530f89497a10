"""Statistics of one load run and the targets they are judged against (pure functions, unit-tested)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    """The q-th percentile (0 ≤ q ≤ 100) by linear interpolation between closest ranks.

    Same definition as numpy's default ("linear"); None for no values.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile out of range: {q}")
    xs = sorted(values)
    if not xs:
        return None
    if len(xs) == 1:
        return float(xs[0])
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return float(xs[lo] + (xs[hi] - xs[lo]) * (pos - lo))


@dataclass
class Sample:
    """One message sent: when it was sent (s since the run's start), how long it took, what went wrong."""

    started: float
    seconds: float
    error: Optional[str] = None  # None: HTTP 200 with a JSON list
    empty: bool = False  # answered with no message at all


@dataclass
class LoadSummary:
    users: int
    messages: int
    errors: int
    empty: int
    elapsed_s: float
    msgs_per_s: float
    p50_ms: Optional[float]
    p95_ms: Optional[float]
    p99_ms: Optional[float]
    max_ms: Optional[float]
    mean_ms: Optional[float]
    error_kinds: Dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> Dict[str, Any]:
        return dict(self.__dict__)


def _ms(x: Optional[float]) -> Optional[float]:
    return None if x is None else round(1000 * x, 1)


def summarize(samples: Iterable[Sample], users: int, elapsed_s: float) -> LoadSummary:
    """Latency percentiles over answered messages; throughput counts answered messages only."""
    samples = list(samples)
    ok = [s.seconds for s in samples if s.error is None]
    kinds: Dict[str, int] = {}
    for s in samples:
        if s.error is not None:
            kinds[s.error] = kinds.get(s.error, 0) + 1
    return LoadSummary(
        users=users,
        messages=len(samples),
        errors=len(samples) - len(ok),
        empty=sum(1 for s in samples if s.error is None and s.empty),
        elapsed_s=round(elapsed_s, 2),
        msgs_per_s=round(len(ok) / elapsed_s, 2) if elapsed_s > 0 else 0.0,
        p50_ms=_ms(percentile(ok, 50)),
        p95_ms=_ms(percentile(ok, 95)),
        p99_ms=_ms(percentile(ok, 99)),
        max_ms=_ms(max(ok) if ok else None),
        mean_ms=_ms(sum(ok) / len(ok) if ok else None),
        error_kinds=dict(sorted(kinds.items())),
    )


def ratio(ours: Optional[float], reference: Optional[float]) -> Optional[float]:
    """ours / reference, rounded; None when either is missing or the reference is zero."""
    if ours is None or reference is None or reference == 0:
        return None
    return round(ours / reference, 2)


# The targets. Each reads the run's result dict and says met / missed / not measured.
@dataclass(frozen=True)
class Target:
    key: str
    text: str


TARGETS: List[Target] = [
    Target("p50_1user", "1 user: p50 ≤ 15 ms end to end (action call included)"),
    Target("throughput_20", "20 users: ≥ 4× the stock assistant's msgs/s in the same run"),
    Target("p95_20", "20 users: p95 < 500 ms"),
    Target("errors_20", "20 users: no errors"),
    Target("training", "full training < 5 min"),
    Target("memory", "Rasa server + action server ≤ 1.0 GB resident together (PSS)"),
    Target("ready", "ready ≤ 10 s after start with a trained model"),
    Target("shell_ready", "staff shell (`make shell`) ready ≤ 20 s"),
    Target("jieba", "jieba's dictionary read once per process (Rasa server, action server, shell)"),
]
P50_1USER_MS, THROUGHPUT_RATIO, P95_20_MS = 15.0, 4.0, 500.0
TRAINING_S, MEMORY_MB, READY_S, SHELL_READY_S = 300.0, 1024.0, 10.0, 20.0


def _load(result: Dict[str, Any], who: str, users: int) -> Optional[Dict[str, Any]]:
    for run in result.get(who, {}).get("load", []):
        if run.get("users") == users:
            return run
    return None


def evaluate_targets(result: Dict[str, Any]) -> List[Dict[str, Any]]:
    """[{key, text, status: met|missed|not measured, value}] for every target."""
    ours = result.get("ours", {})
    one = _load(result, "ours", 1)
    twenty = _load(result, "ours", 20)
    ref20 = _load(result, "reference", 20)
    out = []

    def add(key: str, met: Optional[bool], value: str) -> None:
        target = next(t for t in TARGETS if t.key == key)
        status = "not measured" if met is None else ("met" if met else "missed")
        out.append({"key": key, "text": target.text, "status": status, "value": value})

    p50 = one.get("p50_ms") if one else None
    add("p50_1user", None if p50 is None else p50 <= P50_1USER_MS, f"p50 {p50} ms" if p50 is not None else "–")
    r = ratio(twenty and twenty.get("msgs_per_s"), ref20 and ref20.get("msgs_per_s"))
    refsql20 = _load(result, "reference_sqlite", 20)
    rs = ratio(twenty and twenty.get("msgs_per_s"), refsql20 and refsql20.get("msgs_per_s"))
    also = (f"; stock on a SQLite conversation store {refsql20['msgs_per_s']} msgs/s = {rs}×"
            if rs is not None else "")
    add("throughput_20", None if r is None else r >= THROUGHPUT_RATIO,
        f"{twenty['msgs_per_s']} vs {ref20['msgs_per_s']} msgs/s = {r}× (stock as `rasa init` makes it: "
        f"conversations in memory, 1 worker){also}" if r is not None else "–")
    p95 = twenty.get("p95_ms") if twenty else None
    add("p95_20", None if p95 is None else p95 < P95_20_MS, f"p95 {p95} ms" if p95 is not None else "–")
    add("errors_20", None if twenty is None else twenty["errors"] == 0,
        f"{twenty['errors']} errors in {twenty['messages']} messages" if twenty else "–")
    train = ours.get("training", {}).get("seconds")
    add("training", None if train is None else train < TRAINING_S,
        f"{train:.0f} s" if train is not None else "not timed in this run (--train)")
    mem = ours.get("memory", {})
    pss, rss = mem.get("pss_peak_total_mb"), mem.get("peak_total_mb")
    if pss is None:  # results from before PSS was measured: RSS, as they were judged then
        add("memory", None if rss is None else rss <= MEMORY_MB, f"peak RSS {rss:.0f} MB" if rss is not None else "–")
    else:
        add("memory", pss <= MEMORY_MB, f"peak PSS {pss:.0f} MB (RSS summed over processes {rss:.0f} MB)")
    ready = ours.get("startup", {}).get("ready_s")
    add("ready", None if ready is None else ready <= READY_S, f"{ready:.1f} s" if ready is not None else "–")
    shell = result.get("shell") or {}
    sready = shell.get("ready_s")
    add("shell_ready", None if sready is None else sready <= SHELL_READY_S,
        f"{sready:.1f} s" if sready is not None else shell.get("error", "–"))
    # Every tokenizer of the Rasa server is made before its workers fork (bot/patches/prefork.py),
    # so one read serves all its processes; the action server and the shell are one process each.
    reads = {**(ours.get("jieba_reads") or {}), **({"shell": shell["jieba_reads"]} if "jieba_reads" in shell else {})}
    add("jieba", None if not reads else all(n <= 1 for n in reads.values()),
        ", ".join(f"{k} {n}" for k, n in reads.items()) + " reads" if reads else "–")
    return out
