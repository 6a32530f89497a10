"""The message mix and a closed-loop load driver for the REST channel (aiohttp, one event loop).

Every virtual user plays whole conversations one after another, each under a new sender id,
sending the next message as soon as the previous answer has arrived (no think time), so the
figures are the servers' capacity. A run stops at a message count or a time limit, whichever
comes first; every request has its own timeout.
"""
from __future__ import annotations

import asyncio
import functools
import json
import itertools
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import aiohttp

from bench.stats import Sample

# What the input guard (bot/channels/guard.py) answers instead of the assistant: its apology when
# the answer failed or took longer than ACTION_REPLY_TIMEOUT, and its slow-down request. Either
# counts as an error here, though the HTTP status is 200.
GUARD_REPLIES = {"系统暂时无法回答": "guard apology (failed or late answer)", "发送消息过于频繁": "guard rate limit"}


def classify(data) -> Optional[str]:
    """None for a real answer, else what went wrong with a 200 response's JSON."""
    if not isinstance(data, list):
        return "not a list"
    for m in data:
        text = m.get("text") if isinstance(m, dict) else None
        for marker, kind in GUARD_REPLIES.items():
            if text and marker in text:
                return kind
    return None

# (weight, turns). Short single questions, follow-ups and a several-turn eligibility check, in
# roughly the proportions a citizen-facing policy assistant sees: most conversations are one
# question. Every other conversation of the plan is one of these, the rest real-phrasing ones.
CONVERSATIONS: List[Tuple[int, Tuple[str, ...]]] = [
    (2, ("博士后出站补助我能拿吗", "去遂昌", "民营企业")),
    (2, ("第七条讲什么", "由哪个部门负责")),
    (2, ("开化县是山区县吗",)),
    (2, ("创业担保贷款有什么优惠",)),
    (1, ("公积金怎么提取",)),
    (1, ("挂职要多久",)),
    (1, ("这个文件什么时候开始施行",)),
    (1, ("飞地是什么意思",)),
]


# The real-phrasing evaluation sets (eval/README.md): people's own longer wordings, corrections
# and several-turn conversations, 390 conversations, 570 messages of 21 characters on average
# (the short questions above: 8). Their `turns` are played as written.
ROOT = Path(__file__).resolve().parent.parent
REAL_SETS = tuple(ROOT / "eval" / "real" / f"part{i}.yml" for i in (1, 2, 3))


@functools.lru_cache(maxsize=None)
def real_conversations(paths: Tuple[Path, ...] = REAL_SETS) -> Tuple[Tuple[str, ...], ...]:
    """The `turns` of every case of the real-phrasing sets, in file order."""
    import yaml

    out = []
    for path in paths:
        cases = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        for case in cases:
            turns = case.get("turns") if isinstance(case, dict) else None
            if not turns or not all(isinstance(t, str) and t.strip() for t in turns):
                name = case.get("id") if isinstance(case, dict) else repr(case)
                raise ValueError(f"{path.name}: case {name} has no list of non-empty `turns`")
            out.append(tuple(turns))
    if not out:
        raise ValueError(f"no conversations in {', '.join(p.name for p in paths)}")
    return tuple(out)


def weighted(conversations: Sequence[Tuple[int, Tuple[str, ...]]]) -> List[Tuple[str, ...]]:
    """A weighted list as one list of conversations, interleaved so that every prefix is mixed."""
    pools = [[turns] * weight for weight, turns in conversations]
    out: List[Tuple[str, ...]] = []
    for row in itertools.zip_longest(*pools):
        out.extend(c for c in row if c is not None)
    return out


def schedule(conversations: Sequence[Tuple[int, Tuple[str, ...]]] = CONVERSATIONS,
             real: Optional[Sequence[Tuple[str, ...]]] = None) -> List[Tuple[str, ...]]:
    """The plan every user walks through: a short-question conversation (the weighted mix, cycled)
    and a real-phrasing one (each once, in order) by turns, until every real one has been played.
    ``real=()`` gives the short mix alone."""
    short = weighted(conversations)
    real = real_conversations() if real is None else tuple(real)
    if not real:
        return short
    out: List[Tuple[str, ...]] = []
    for i, conversation in enumerate(real):
        out.append(short[i % len(short)])
        out.append(conversation)
    return out


def warm_up_plan() -> List[Tuple[str, ...]]:
    """Every short conversation once, and every 13th real one (30 of them, long and short)."""
    return weighted(CONVERSATIONS) + list(real_conversations()[::13])


def messages_per_round(conversations=CONVERSATIONS, real=()) -> int:
    return sum(len(c) for c in schedule(conversations, real))


def describe_mix() -> Dict[str, Any]:
    """What the mix is made of, for the result file (the texts themselves are in the repository)."""
    plan = schedule()
    msgs = [t for c in plan for t in c]
    real = real_conversations()
    real_msgs = [t for c in real for t in c]
    return {
        "short": [{"weight": w, "turns": list(t)} for w, t in CONVERSATIONS],
        "real": {"files": [str(p.relative_to(ROOT)) for p in REAL_SETS], "conversations": len(real),
                 "messages": len(real_msgs),
                 "mean_chars": round(sum(map(len, real_msgs)) / len(real_msgs), 1),
                 "max_chars": max(map(len, real_msgs))},
        "plan": {"conversations": len(plan), "messages": len(msgs),
                 "real_share_of_messages": round(len(real_msgs) / len(msgs), 2),
                 "mean_chars": round(sum(map(len, msgs)) / len(msgs), 1)},
    }


async def _post(session: aiohttp.ClientSession, url: str, sender: str, text: str,
                t0: float, timeout: float) -> Sample:
    started = time.perf_counter()
    error: Optional[str] = None
    empty = False
    try:
        async with session.post(url, json={"sender": sender, "message": text},
                                timeout=aiohttp.ClientTimeout(total=timeout)) as r:
            body = await r.read()
            if r.status != 200:
                error = f"HTTP {r.status}"
            else:
                data = json.loads(body)
                error = classify(data)
                empty = error is None and not data
    except asyncio.TimeoutError:
        error = "timeout"
    except aiohttp.ClientError as e:
        error = type(e).__name__
    except ValueError:
        error = "bad JSON"
    return Sample(started=started - t0, seconds=time.perf_counter() - started, error=error, empty=empty)


async def _drive(url: str, users: int, max_messages: int, max_seconds: float,
                 request_timeout: float, tag: str,
                 plan: Optional[List[Tuple[str, ...]]] = None) -> Tuple[List[Sample], float]:
    plan = plan or schedule()
    samples: List[Sample] = []
    budget = [max_messages]
    t0 = time.perf_counter()
    deadline = t0 + max_seconds

    async def user(i: int, session: aiohttp.ClientSession) -> None:
        k = i * len(plan) // users  # users start at different places in the mix
        while True:
            turns = plan[k % len(plan)]
            k += 1
            sender = f"bench-{tag}-{i}-{uuid.uuid4().hex[:8]}"
            for text in turns:
                if budget[0] <= 0 or time.perf_counter() >= deadline:
                    return
                budget[0] -= 1
                samples.append(await _post(session, url, sender, text, t0, request_timeout))

    connector = aiohttp.TCPConnector(limit=users, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(user(i, session) for i in range(users)))
    return samples, time.perf_counter() - t0


def drive(url: str, users: int, max_messages: int, max_seconds: float,
          request_timeout: float = 30.0, tag: str = "load",
          plan: Optional[List[Tuple[str, ...]]] = None) -> Tuple[List[Sample], float]:
    """Run the mix (or ``plan``) with `users` concurrent users; (samples, elapsed seconds)."""
    return asyncio.run(_drive(url, users, max_messages, max_seconds, request_timeout, tag, plan))


def warm_up(url: str, request_timeout: float = 60.0) -> List[Sample]:
    """`warm_up_plan` once, one user, not counted: first calls trace TensorFlow graphs."""
    plan = warm_up_plan()
    samples, _ = drive(url, 1, sum(map(len, plan)), 120.0, request_timeout, tag="warmup", plan=plan)
    return samples
