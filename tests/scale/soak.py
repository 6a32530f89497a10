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

With `--faults` the script runs both servers under the supervisor of `make run`
(bot/supervisor.py) and, in the middle of the load, kills the action server (SIGKILL, at a third
of the messages) and restarts the Rasa server (SIGTERM, at two thirds); the supervisor brings
each back. A person is then *told* instead of answered: the apology while the action server is
away, the notice that an answer was not kept, or (while Rasa restarts) no connection, after
which the user sends the same message again a second later, as a person would. The checks
become:

- every message that reached the assistant is stored as a `user` event, in the order sent, once
  (a message whose connection broke mid-way may be stored before it is sent again);
- every answer the person received is stored as the `bot` events of that message's turn;
- every message that got no answer was told so (apology, not-saved notice, refused connection);
  nothing else (a 5xx, an empty answer, a timeout) happens.

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
    # sender -> [(text, outcome, texts of the answer)] for every message that reached the
    # assistant; outcome: answered | apology | not_saved | unknown (connection broke mid-way)
    turns: Dict[str, List[Tuple[str, str, List[str]]]] = field(default_factory=dict)
    told: Dict[str, int] = field(default_factory=dict)     # how the person was told, counted


def run_load(targets: Sequence[str], users: int, messages: int, time_limit: float = 600,
             timeout: float = 60, run_id: Optional[str] = None,
             progress: Optional[Callable[[int], None]] = None, faults: bool = False,
             think: float = 0.0) -> LoadResult:
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
            degraded = False  # a turn was not answered: the last one cannot be checked
            for k, text in enumerate(turns):
                if time.monotonic() >= deadline:
                    with lock:
                        result.stopped_early = True
                    return
                target = targets[(u + k) % len(targets)]
                if faults:
                    s = _post_until_reached(session, target, sender, text, t0, timeout, u,
                                            deadline, result, lock)
                    if s is None:
                        with lock:
                            result.stopped_early = True
                        return
                    if s.outcome != "answered":
                        degraded = True
                else:
                    s = _post(session, target, sender, text, t0, timeout, u)
                answer = s.answer
                with lock:
                    result.samples.append(s.sample)
                    result.sent[sender] = result.sent.get(sender, 0) + 1
                    result.turns.setdefault(sender, []).append(
                        (text, s.outcome, [m["text"] for m in answer if m.get("text")]))
                    done[0] += 1
                    if progress:
                        progress(done[0])
                left -= 1
                if think:
                    time.sleep(think)
            if complete and answer and not degraded:
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
    outcome: str = "answered"


def _told_texts() -> Dict[str, str]:
    """What the assistant says instead of an answer, and what each means."""
    from bot.channels.guard import APOLOGY, STILL_ANSWERING
    from bot.stores import NOT_SAVED

    return {APOLOGY: "apology", NOT_SAVED: "not_saved", STILL_ANSWERING: "still_answering"}


def _post_until_reached(session: requests.Session, url: str, sender: str, text: str, t0: float,
                        timeout: float, user: int, deadline: float, result: LoadResult,
                        lock: threading.Lock) -> Optional[_Posted]:
    """Sends until the assistant takes the message. A refused or broken connection is what the
    person sees while Rasa restarts (told: no connection); they send it again a second later."""
    told = _told_texts()
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            r = session.post(url, json={"sender": sender, "message": text}, timeout=timeout)
        except requests.ConnectionError as e:
            # Refused: nothing reached the assistant. Broken after sending: it may have.
            broken = "refused" not in str(e).lower()
            with lock:
                key = "connection_broken" if broken else "connection_refused"
                result.told[key] = result.told.get(key, 0) + 1
                if broken:
                    result.turns.setdefault(sender, []).append((text, "unknown", []))
            time.sleep(1.0)
            continue
        except requests.RequestException as e:
            sample = Sample(user, sender, url, started - t0, time.monotonic() - started,
                            f"{type(e).__name__}: {e}")
            return _Posted(sample, [], "error")
        latency = time.monotonic() - started
        error = None
        answer: List[dict] = []
        outcome = "answered"
        if r.status_code != 200:
            error = f"HTTP {r.status_code}: {r.text[:200]}"
            outcome = "error"
        else:
            answer = r.json() if isinstance(r.json(), list) else []
            said = [m.get("text") for m in answer if m.get("text")]
            kinds = [told[t] for t in said if t in told]
            if not said:
                error, outcome = f"empty answer: {r.text[:200]}", "error"
            elif kinds:
                outcome = kinds[-1]
                with lock:
                    result.told[outcome] = result.told.get(outcome, 0) + 1
                if outcome == "still_answering":  # not taken: send it again
                    time.sleep(1.0)
                    continue
        return _Posted(Sample(user, sender, url, started - t0, latency, error), answer, outcome)
    return None


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


def stored_turns(tracker_db: str, prefix: str) -> Dict[str, List[Tuple[str, List[str]]]]:
    """sender -> [(user text, bot texts after it)] in the order stored."""
    import sqlalchemy as sa

    engine = sa.create_engine(tracker_db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT sender_id, type_name, data FROM events "
                        "WHERE sender_id LIKE :p AND type_name IN ('user', 'bot') ORDER BY id"),
                {"p": prefix + "%"},
            ).fetchall()
    finally:
        engine.dispose()
    out: Dict[str, List[Tuple[str, List[str]]]] = {}
    for sender, kind, data in rows:
        event = json.loads(data)
        turns = out.setdefault(sender, [])
        if kind == "user":
            turns.append((event.get("text") or "", []))
        elif turns and event.get("text"):
            turns[-1][1].append(event["text"])
    return out


def conversation_problems(sent: Dict[str, List[Tuple[str, str, List[str]]]],
                          stored: Dict[str, List[Tuple[str, List[str]]]]) -> List[str]:
    """Each message that reached the assistant stored once, in order; each answer received
    stored with it (see the module's docstring)."""
    told = set(_told_texts())
    problems = []
    for sender, turns in sorted(sent.items()):
        kept = list(stored.get(sender, []))
        i = 0
        for text, outcome, answer in turns:
            if outcome == "unknown":  # broke mid-way: stored or not, then sent again
                if i + 1 < len(kept) and kept[i][0] == kept[i + 1][0] == text:
                    i += 1  # stored, and stored again when it was sent again
                continue
            if outcome == "not_saved":  # told that it was not kept
                if i < len(kept) and kept[i][0] == text:
                    problems.append(f"{sender}: {text!r} stored although the person was told it was not")
                continue
            if i >= len(kept) or kept[i][0] != text:
                problems.append(f"{sender}: message {text!r} not stored at its place "
                                f"(found {kept[i][0] if i < len(kept) else None!r})")
                break
            real = [t for t in answer if t not in told]
            missing = [t for t in real if t not in kept[i][1]]
            if outcome == "answered" and missing:
                problems.append(f"{sender}: the answer to {text!r} was not stored with it")
            i += 1
        if i < len(kept):
            problems.append(f"{sender}: {len(kept) - i} stored messages never sent, e.g. {kept[i][0]!r}")
    for sender in sorted(set(stored) - set(sent)):
        problems.append(f"{sender}: stored but never sent")
    return problems


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
    told: Dict[str, int] = field(default_factory=dict)
    faults: List[str] = field(default_factory=list)
    conversation_problems: List[str] = field(default_factory=list)

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
        if self.events_missing and not self.faults:
            out.append(f"tracker store disagrees for {len(self.events_missing)} senders, "
                       f"e.g. {self.events_missing[:3]}")
        if self.conversation_problems:
            out.append(f"{len(self.conversation_problems)} conversations not stored as sent and "
                       f"answered, e.g. {self.conversation_problems[:3]}")
        for name, m in self.memory.items():
            if self.faults:
                break  # the servers were restarted: their memory is not one series
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
        if self.faults:
            lines.append(f"  faults      {'; '.join(self.faults)}")
            lines.append(f"  told        {dict(sorted(self.told.items())) or 'nothing'}   "
                         f"conversations not stored as sent {len(self.conversation_problems)}")
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
         time_limit: float = 900, timeout: float = 60, quiet: bool = True,
         fault_plan: Sequence[Tuple[float, str, Callable[[], None]]] = (),
         think: float = 0.0) -> Report:
    """Runs the load against running servers and checks it; see the module's docstring.
    ``fault_plan``: (share of the messages sent, what, action) run once that share is sent."""
    run_id = uuid.uuid4().hex[:8]
    total = users * messages
    warm_at = max(1, int(total * warmup))
    warm_rss: Dict[str, int] = {}
    injected: List[str] = []
    t_start = time.monotonic()

    with RssSampler(pids) as rss:
        start_rss = {n: s[0][1] for n, s in rss.series.items()}

        def progress(n: int) -> None:
            for share, what, action in fault_plan:
                if n == max(1, int(total * share)):
                    injected.append(f"{what} after {n} messages ({time.monotonic() - t_start:.0f} s)")
                    threading.Thread(target=action, daemon=True).start()
            if n == warm_at:
                warm_rss.update({name: tree_rss(pid) for name, pid in pids.items()})
            if not quiet and n % max(1, total // 20) == 0:
                print(f"  … {n}/{total} messages", flush=True)

        load = run_load(targets, users, messages, time_limit=time_limit, timeout=timeout,
                        run_id=run_id, progress=progress, faults=bool(fault_plan), think=think)
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
        told=load.told, faults=injected,
        conversation_problems=(conversation_problems(load.turns, stored_turns(tracker_db, f"soak-{run_id}-"))
                               if fault_plan else []),
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
    ap.add_argument("--think", type=float, default=0.0, help="seconds each user waits between messages")
    ap.add_argument("--faults", action="store_true",
                    help="servers under the supervisor; kill the action server at 1/3 of the "
                         "messages and restart Rasa at 2/3 (own servers only)")
    args = ap.parse_args(argv)

    kwargs = dict(users=args.users, messages=args.messages, warmup=args.warmup,
                  rss_growth_mb=args.rss_growth_mb, time_limit=args.time_limit,
                  timeout=args.timeout, quiet=False, think=args.think)
    if args.faults:
        if args.rest or args.store != "sqlite":
            ap.error("--faults starts its own servers with a SQLite store")
        report = soak_with_faults(**kwargs)
    elif args.rest:
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


def soak_with_faults(users: int, messages: int, quiet: bool = True,
                     shares: Tuple[float, float] = (1 / 3, 2 / 3), **kwargs) -> Report:
    """Both servers under bot/supervisor.py, as `make run` starts them; the action server is
    killed at a third of the messages and Rasa restarted at two thirds."""
    import os
    import signal
    import tempfile

    from bot.launcher import base_env, current_model, free_port
    from bot.supervisor import Supervisor, commands

    logs = ROOT / "results" / "soak-logs"
    tmp = tempfile.TemporaryDirectory(prefix="shanqu26-soak-")
    rasa_port, actions_port = free_port(), free_port()
    env = base_env(
        RASA_PORT=str(rasa_port), ACTIONS_PORT=str(actions_port), VAR_DIR=tmp.name,
        TRACKER_DB_URL=f"sqlite:///{tmp.name}/tracker.db",
        ACTION_ENDPOINT_URL=f"http://127.0.0.1:{actions_port}/webhook",
        # A person sends one message at a time; the soak's users send without pause.
        GUARD_SENDER_PER_MINUTE="0",
        SUPERVISE_BACKOFF_S="1", SUPERVISE_PROBE_S="1",
    )
    servers = commands(str(current_model()), env)
    sup = Supervisor([servers["actions"], servers["rasa"]], logs=logs, env=env,
                     say=lambda line: print(line, flush=True))
    running = threading.Event()
    running.set()

    def supervise() -> None:
        while running.is_set():
            sup.step()
            time.sleep(0.2)

    def kill(name: str, sig: int) -> Callable[[], None]:
        def act() -> None:
            proc = servers[name].proc
            if proc is not None:
                os.killpg(proc.pid, sig)
        return act

    try:
        sup.start_all()
        if not sup.wait_ready(600):
            raise RuntimeError(f"the servers did not start; see {logs}/")
        thread = threading.Thread(target=supervise, daemon=True)
        thread.start()
        rest = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
        print(f"soak with faults against {rest}", flush=True)
        report = soak([rest], env["TRACKER_DB_URL"], {}, users=users, messages=messages,
                      quiet=quiet, fault_plan=[
                          (shares[0], "action server killed (SIGKILL)", kill("actions", signal.SIGKILL)),
                          (shares[1], "Rasa restarted (SIGTERM)", kill("rasa", signal.SIGTERM)),
                      ], **kwargs)
        report.faults.append(f"restarts by the supervisor: "
                             f"{ {s.name: s.restarts for s in sup.servers} }")
        return report
    finally:
        running.clear()
        sup.stop_all()
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
