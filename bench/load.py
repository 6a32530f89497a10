"""The message mix and a closed-loop load driver for the REST channel (aiohttp, one event loop).

Every virtual user plays whole conversations one after another, each under a new sender id,
sending the next message as soon as the previous answer has arrived (no think time), so the
figures are the servers' capacity. A run stops at a message count or a time limit, whichever
comes first; every request has its own timeout.
"""
from __future__ import annotations

import asyncio
import json
import itertools
import time
import uuid
from typing import List, Optional, Sequence, Tuple

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

# (weight, turns). Single questions, follow-ups and a several-turn eligibility check, in roughly
# the proportions a citizen-facing policy assistant sees: most conversations are one question.
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


def schedule(conversations: Sequence[Tuple[int, Tuple[str, ...]]] = CONVERSATIONS) -> List[Tuple[str, ...]]:
    """The weighted mix as one list of conversations, interleaved so that every prefix is mixed."""
    pools = [[turns] * weight for weight, turns in conversations]
    out: List[Tuple[str, ...]] = []
    for row in itertools.zip_longest(*pools):
        out.extend(c for c in row if c is not None)
    return out


def messages_per_round(conversations=CONVERSATIONS) -> int:
    return sum(len(c) for c in schedule(conversations))


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
                 request_timeout: float, tag: str) -> Tuple[List[Sample], float]:
    plan = schedule()
    samples: List[Sample] = []
    budget = [max_messages]
    t0 = time.perf_counter()
    deadline = t0 + max_seconds

    async def user(i: int, session: aiohttp.ClientSession) -> None:
        k = i  # users start at different places in the mix
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
          request_timeout: float = 30.0, tag: str = "load") -> Tuple[List[Sample], float]:
    """Run the mix with `users` concurrent users; (samples, elapsed seconds)."""
    return asyncio.run(_drive(url, users, max_messages, max_seconds, request_timeout, tag))


def warm_up(url: str, request_timeout: float = 60.0) -> List[Sample]:
    """Every conversation once, one user, not counted: first calls trace TensorFlow graphs."""
    samples, _ = drive(url, 1, messages_per_round(), 120.0, request_timeout, tag="warmup")
    return samples
