"""Soak: many concurrent users through the REST channel, then proof that nothing was lost.

    python -m tests.scale.soak --users 20 --messages 100            # own servers, SQLite store
    python -m tests.scale.soak --users 20 --messages 100 --store postgres
    python -m tests.scale.soak --rest http://127.0.0.1:5005/webhooks/rest/webhook \\
        --tracker-db sqlite:///var/tracker.db --pids <rasa pid> <actions pid>   # running servers

Every virtual user sends exactly `--messages` messages, one after another (closed loop, no think
time), as a realistic mix of conversations, each under a new sender id: single questions,
follow-ups that depend on the previous turn, and a three-turn eligibility check. Afterwards:

- errors: every request answered HTTP 200 with a non-empty list of messages, within its timeout;
- answers: the last turn of each complete conversation carries what it must (the follow-up cites
  the clause just discussed, the eligibility check ends "eligible", ...), so conversations did not
  bleed into each other under load;
- the tracker store: the SQL store's `events` table holds exactly one `user` event per message
  sent, for every sender;
- memory: RSS (psutil, process and children) of the Rasa server and the action server, sampled
  every 0.5 s: at start, after warm-up (the first `--warmup` share of messages), at the end and the
  peak. Flat means end − after-warm-up ≤ `--rss-growth-mb` for each server.

Only 127.0.0.1 is ever contacted; the run is bounded by the message count and `--time-limit`.
Exit status 0 when every check holds, 1 otherwise.
"""
from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from eval.scoring import cited_ids, customs  # noqa: E402

MB = 1024 * 1024
Check = Callable[[List[dict]], Optional[str]]


# --- the message mix -----------------------------------------------------------------------------

def _verdict(msgs: List[dict]) -> Optional[dict]:
    found = [c["eligibility"] for c in customs(msgs) if isinstance(c.get("eligibility"), dict)]
    return found[-1] if found else None


def expect_eligible(msgs):
    v = _verdict(msgs)
    if not v or v.get("verdict") != "eligible" or v.get("clause_id") != "m1":
        return f"eligibility check did not end eligible for m1: {v}"
    return None


def expect_clause(clause: str) -> Check:
    def check(msgs):
        ids = cited_ids(msgs)
        return None if ids and ids[0] == clause else f"expected a citation of {clause}, got {ids[:3]}"
    return check


def expect_county(name: str) -> Check:
    def check(msgs):
        counties = [c["county"].get("name") for c in customs(msgs) if isinstance(c.get("county"), dict)]
        return None if name in counties else f"expected county {name}, got {counties}"
    return check


# (weight, turns, check of the last turn's answer). Most conversations a citizen-facing assistant
# sees are one question; some follow up; a few go through an eligibility check.
MIX: List[Tuple[int, Tuple[str, ...], Check]] = [
    (3, ("创业担保贷款有什么优惠",), expect_clause("m7")),
    (2, ("景宁是山区县吗",), expect_county("景宁畲族自治县")),
    (2, ("第五条是什么内容", "由哪个部门负责"), expect_clause("m5")),
    (1, ("景宁是山区县吗", "那乐清呢"), expect_county("乐清市")),
    (2, ("博士后出站补助我能拿吗", "去遂昌", "民营企业"), expect_eligible),
]


def schedule(offset: int = 0) -> List[Tuple[Tuple[str, ...], Check]]:
    """One round of the weighted mix, interleaved, rotated by `offset` so users differ."""
    pools = [[(turns, check)] * weight for weight, turns, check in MIX]
    row = [c for group in itertools.zip_longest(*pools) for c in group if c is not None]
    k = offset % len(row)
    return row[k:] + row[:k]


# --- load ----------------------------------------------------------------------------------------

@dataclass
class Sample:
    user: int
    sender: str
    target: str
    started: float      # seconds since the run began
    latency: float      # seconds
    error: Optional[str] = None


@dataclass
class LoadResult:
    samples: List[Sample] = field(default_factory=list)
    sent: Dict[str, int] = field(default_factory=dict)       # sender -> messages sent
    wrong: List[str] = field(default_factory=list)           # answers that lost their context
    conversations: int = 0
    wall: float = 0.0
    stopped_early: bool = False


def run_load(targets: Sequence[str], users: int, messages: int, time_limit: float = 600,
             timeout: float = 60, run_id: Optional[str] = None,
             progress: Optional[Callable[[int], None]] = None) -> LoadResult:
    """`users` threads, each sending exactly `messages` messages unless `time_limit` runs out.

    Turn k of a conversation goes to targets[(user + k) % len(targets)], so with two Rasa servers
    as targets every multi-turn conversation alternates between them.
    """
    for t in targets:
        if urlsplit(t).hostname != "127.0.0.1":
            raise ValueError(f"only loopback targets are allowed, not {t}")
    run_id = run_id or uuid.uuid4().hex[:8]
    result = LoadResult()
    lock = threading.Lock()
    done = [0]
    t0 = time.monotonic()
    deadline = t0 + time_limit

    def user(u: int) -> None:
        # Closed at the end, so that no idle keep-alive connection delays a server's shutdown.
        with requests.Session() as session:
            _user(u, session)

    def _user(u: int, session: requests.Session) -> None:
        left = messages
        for c, (full, check) in enumerate(itertools.cycle(schedule(u))):
            if left <= 0:
                break
            sender = f"soak-{run_id}-u{u:02d}-c{c:03d}"
            turns = full[:left]  # the message budget may cut the last conversation short
            complete = len(turns) == len(full)
            answer: List[dict] = []
            for k, text in enumerate(turns):
                if time.monotonic() >= deadline:
                    with lock:
                        result.stopped_early = True
                    return
                target = targets[(u + k) % len(targets)]
                s = _post(session, target, sender, text, t0, timeout, u)
                answer = s.answer
                with lock:
                    result.samples.append(s.sample)
                    result.sent[sender] = result.sent.get(sender, 0) + 1
                    done[0] += 1
                    if progress:
                        progress(done[0])
                left -= 1
            if complete and answer:
                problem = check(answer)
                if problem:
                    with lock:
                        result.wrong.append(f"{sender} {' → '.join(turns)}: {problem}")
            with lock:
                result.conversations += 1

    with ThreadPoolExecutor(max_workers=users) as pool:
        for f in [pool.submit(user, u) for u in range(users)]:
            f.result()
    result.wall = time.monotonic() - t0
    return result


_DEGRADED: Optional[frozenset] = None


def _degraded_texts() -> frozenset:
    """What the input guard answers instead of the assistant (bot/channels/guard.py): the apology
    when the action server failed or timed out, and the request to slow down. Under load either
    one is an error."""
    global _DEGRADED
    if _DEGRADED is None:
        from bot.channels.guard import APOLOGY, RATE_LIMITED

        _DEGRADED = frozenset({APOLOGY, RATE_LIMITED})
    return _DEGRADED


@dataclass
class _Posted:
    sample: Sample
    answer: List[dict]


def _post(session: requests.Session, url: str, sender: str, text: str, t0: float,
          timeout: float, user: int) -> _Posted:
    started = time.monotonic()
    error = None
    answer: List[dict] = []
    try:
        r = session.post(url, json={"sender": sender, "message": text}, timeout=timeout)
        if r.status_code != 200:
            error = f"HTTP {r.status_code}: {r.text[:200]}"
        else:
            answer = r.json()
            if not isinstance(answer, list) or not answer:
                error = f"empty answer: {r.text[:200]}"
                answer = []
            elif any(m.get("text") in _degraded_texts() for m in answer):
                error = f"degraded answer: {answer[0].get('text')}"
    except Exception as e:  # transport errors and timeouts are what a soak is looking for
        error = f"{type(e).__name__}: {e}"
    latency = time.monotonic() - started
    return _Posted(Sample(user, sender, url, started - t0, latency, error), answer)


# --- the tracker store ---------------------------------------------------------------------------

def user_events(tracker_db: str, prefix: str) -> Dict[str, int]:
    """Number of `user` events per sender whose id starts with `prefix`, from the SQL tracker
    store's `events` table (SQLite or PostgreSQL, the URL Rasa is given)."""
    import sqlalchemy as sa

    engine = sa.create_engine(tracker_db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT sender_id, COUNT(*) FROM events "
                        "WHERE type_name = 'user' AND sender_id LIKE :p GROUP BY sender_id"),
                {"p": prefix + "%"},
            ).fetchall()
    finally:
        engine.dispose()
    return {sender: int(n) for sender, n in rows}


def missing_events(sent: Dict[str, int], stored: Dict[str, int]) -> List[str]:
    problems = []
    for sender, n in sorted(sent.items()):
        if stored.get(sender, 0) != n:
            problems.append(f"{sender}: sent {n}, stored {stored.get(sender, 0)} user events")
    for sender in sorted(set(stored) - set(sent)):
        problems.append(f"{sender}: {stored[sender]} user events never sent")
    return problems


# --- memory --------------------------------------------------------------------------------------

from bench.procs import tree_rss  # noqa: E402  (one definition of a process tree's RSS)

class RssSampler:
    """RSS of named process trees every `interval` seconds, in a thread."""

    def __init__(self, pids: Dict[str, int], interval: float = 0.5) -> None:
        self.pids = pids
        self.interval = interval
        self.series: Dict[str, List[Tuple[float, int]]] = {n: [] for n in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.t0 = time.monotonic()

    def sample(self) -> Dict[str, int]:
        now = time.monotonic() - self.t0
        values = {name: tree_rss(pid) for name, pid in self.pids.items()}
        for name, v in values.items():
            self.series[name].append((now, v))
        return values

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> "RssSampler":
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()

    def peak(self, name: str) -> int:
        return max(v for _, v in self.series[name])


# --- the whole soak ------------------------------------------------------------------------------

@dataclass
class ServerMemory:
    start_mb: float
    warm_mb: float
    end_mb: float
    max_mb: float

    @property
    def growth_mb(self) -> float:
        return self.end_mb - self.warm_mb


@dataclass
class Report:
    users: int
    messages_per_user: int
    sent: int
    wall_s: float
    msgs_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: List[str]
    wrong_answers: List[str]
    conversations: int
    senders: int
    events_missing: List[str]
    memory: Dict[str, ServerMemory]
    rss_growth_bound_mb: float
    stopped_early: bool

    @property
    def memory_flat(self) -> bool:
        return all(m.growth_mb <= self.rss_growth_bound_mb for m in self.memory.values())

    def failures(self) -> List[str]:
        out = []
        expected = self.users * self.messages_per_user
        if self.stopped_early or self.sent != expected:
            out.append(f"sent {self.sent} of {expected} messages before the time limit")
        if self.errors:
            out.append(f"{len(self.errors)} errors, e.g. {self.errors[:3]}")
        if self.wrong_answers:
            out.append(f"{len(self.wrong_answers)} answers lost their context, e.g. {self.wrong_answers[:3]}")
        if self.events_missing:
            out.append(f"tracker store disagrees for {len(self.events_missing)} senders, "
                       f"e.g. {self.events_missing[:3]}")
        for name, m in self.memory.items():
            if m.growth_mb > self.rss_growth_bound_mb:
                out.append(f"{name} RSS grew {m.growth_mb:.1f} MB after warm-up "
                           f"(bound {self.rss_growth_bound_mb:.0f} MB)")
        return out

    def text(self) -> str:
        lines = [
            f"soak: {self.users} users × {self.messages_per_user} messages = {self.sent} sent "
            f"in {self.conversations} conversations ({self.senders} senders), {self.wall_s:.1f} s",
            f"  throughput  {self.msgs_per_s:.2f} msgs/s",
            f"  latency     p50 {self.p50_ms:.0f} ms   p95 {self.p95_ms:.0f} ms   "
            f"p99 {self.p99_ms:.0f} ms   max {self.max_ms:.0f} ms",
            f"  errors      {len(self.errors)}   wrong answers {len(self.wrong_answers)}   "
            f"tracker-store mismatches {len(self.events_missing)}",
        ]
        for name, m in self.memory.items():
            lines.append(
                f"  RSS {name:<8} start {m.start_mb:.0f} MB   after warm-up {m.warm_mb:.0f} MB   "
                f"end {m.end_mb:.0f} MB   max {m.max_mb:.0f} MB   growth {m.growth_mb:+.1f} MB"
            )
        lines.append(f"  memory flat (growth after warm-up ≤ {self.rss_growth_bound_mb:.0f} MB): "
                     f"{'yes' if self.memory_flat else 'NO'}")
        failures = self.failures()
        lines.append("  result      " + ("PASS" if not failures else "FAIL: " + "; ".join(failures)))
        return "\n".join(lines)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["memory_flat"] = self.memory_flat
        d["failures"] = self.failures()
        return d


def _percentile(values: List[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def soak(targets: Sequence[str], tracker_db: str, pids: Dict[str, int], users: int,
         messages: int, warmup: float = 0.2, rss_growth_mb: float = 32,
         time_limit: float = 900, timeout: float = 60, quiet: bool = True) -> Report:
    """Runs the load against running servers and checks it; see the module's docstring."""
    run_id = uuid.uuid4().hex[:8]
    total = users * messages
    warm_at = max(1, int(total * warmup))
    warm_rss: Dict[str, int] = {}

    with RssSampler(pids) as rss:
        start_rss = {n: s[0][1] for n, s in rss.series.items()}

        def progress(n: int) -> None:
            if n == warm_at:
                warm_rss.update({name: tree_rss(pid) for name, pid in pids.items()})
            if not quiet and n % max(1, total // 20) == 0:
                print(f"  … {n}/{total} messages", flush=True)

        load = run_load(targets, users, messages, time_limit=time_limit, timeout=timeout,
                        run_id=run_id, progress=progress)
    end_rss = {n: s[-1][1] for n, s in rss.series.items()}
    stored = user_events(tracker_db, f"soak-{run_id}-")
    latencies = sorted(s.latency * 1000 for s in load.samples)
    memory = {
        name: ServerMemory(start_rss[name] / MB, warm_rss.get(name, start_rss[name]) / MB,
                           end_rss[name] / MB, rss.peak(name) / MB)
        for name in pids
    }
    return Report(
        users=users, messages_per_user=messages, sent=len(load.samples), wall_s=load.wall,
        msgs_per_s=len(load.samples) / load.wall if load.wall else 0.0,
        p50_ms=_percentile(latencies, 50), p95_ms=_percentile(latencies, 95),
        p99_ms=_percentile(latencies, 99), max_ms=latencies[-1] if latencies else 0.0,
        errors=[f"{s.sender}: {s.error}" for s in load.samples if s.error],
        wrong_answers=load.wrong, conversations=load.conversations, senders=len(load.sent),
        events_missing=missing_events(load.sent, stored), memory=memory,
        rss_growth_bound_mb=rss_growth_mb, stopped_early=load.stopped_early,
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--messages", type=int, default=100, help="messages per user")
    ap.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite",
                    help="tracker store of the servers this script starts (postgres: a throwaway "
                         "PostgreSQL on loopback)")
    ap.add_argument("--rest", nargs="+", help="REST webhook URL(s) of running servers (loopback); "
                                              "needs --tracker-db and --pids")
    ap.add_argument("--tracker-db", help="SQL tracker store URL of the running servers")
    ap.add_argument("--pids", nargs=2, type=int, metavar=("RASA_PID", "ACTIONS_PID"))
    ap.add_argument("--warmup", type=float, default=0.2, help="share of messages before the "
                                                              "after-warm-up RSS sample")
    ap.add_argument("--rss-growth-mb", type=float, default=32,
                    help="largest RSS growth after warm-up still called flat, per server")
    ap.add_argument("--time-limit", type=float, default=1200, help="seconds for the whole load")
    ap.add_argument("--timeout", type=float, default=60, help="seconds per request")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)

    kwargs = dict(users=args.users, messages=args.messages, warmup=args.warmup,
                  rss_growth_mb=args.rss_growth_mb, time_limit=args.time_limit,
                  timeout=args.timeout, quiet=False)
    if args.rest:
        if not (args.tracker_db and args.pids):
            ap.error("--rest needs --tracker-db and --pids")
        report = soak(args.rest, args.tracker_db, {"rasa": args.pids[0], "actions": args.pids[1]},
                      **kwargs)
    else:
        report = _soak_own_servers(args.store, kwargs)
    print(report.text())
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=vars))
    return 0 if not report.failures() else 1


def _soak_own_servers(store: str, kwargs: dict) -> Report:
    from contextlib import ExitStack

    from bot.launcher import ActionServer, RasaServer

    logs = ROOT / "results" / "soak-logs"
    logs.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        tracker_db = None
        if store == "postgres":
            from tests.scale.services import Postgres

            pg = Postgres()
            stack.callback(pg.stop)
            tracker_db = pg.start().url
        actions = ActionServer(log=logs / "actions.log")
        stack.callback(actions.stop)
        rasa = RasaServer(actions.url, tracker_db=tracker_db, log=logs / "rasa.log")
        stack.callback(rasa.cleanup)
        print(f"starting the action server and the Rasa server ({store} tracker store) …", flush=True)
        actions.start()
        rasa.start()
        print(f"soak against {rasa.rest}", flush=True)
        return soak([rasa.rest], rasa.tracker_db,
                    {"rasa": rasa.proc.pid, "actions": actions.proc.pid}, **kwargs)


if __name__ == "__main__":
    sys.exit(main())
