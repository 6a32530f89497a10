"""Where one message's time goes inside the Rasa server, part by part: `python -m bench.costs`.

The assistant is loaded in this process as the Rasa server loads it (bot/entry.py: settings, log
mask, patches; the project's endpoints.yml: its SQLite conversation store and lock store in a
temporary directory, the real action server on loopback), then the bench's message mix
(bench/load.py) is played one message at a time through ``Agent.handle_message``, which is what
the channels call. Around each message, the time spent in each part is added up:

* every node of Rasa's graph: the NLU components (normaliser, jieba, featurizers, DIET, the
  knowledge-base entity matcher ...) and the policies, each time it runs;
* the action call (``RemoteAction.run``: HTTP to the action server and back, the action's own
  work, Rasa's check of the reply);
* the conversation store: reading the conversation, and writing the turn (with the staff
  console's index rows);
* the conversation lock.

What is left of a message's wall time is Rasa's own bookkeeping between those parts (the tracker,
its events, the prediction loop). The wall time here has no HTTP and no channel; the difference
to the bench's end-to-end figure is what the REST channel, Sanic and the network add.

`make bench` runs it in a child process after our servers' load (its figures go into the run's
result and report); alone: `make bench-costs`.

usage: python -m bench.costs [--messages N] [--json] [--out FILE]
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from bench import load
from bot.launcher import ROOT, ActionServer, base_env, current_model

# Graph nodes by what they are, for the summary (the full per-node table is kept too).
GROUPS = [
    ("tokenising (jieba)", ("JiebaTokenizer",)),
    ("text normaliser", ("TextNormalizer",)),
    ("featurizers (regex, lexical, 2 count vectors)", ("RegexFeaturizer", "LexicalSyntacticFeaturizer",
                                                       "CountVectorsFeaturizer")),
    ("DIET (one pass)", ("DIETClassifier",)),
    ("knowledge-base entity matcher", ("KBEntityExtractor",)),
    ("other NLU nodes (synonyms, fallback, message)", ("EntitySynonymMapper", "FallbackClassifier",
                                                       "NLUMessageConverter", "RegexMessageHandler")),
    ("policies (all prediction steps)", ("RulePolicy", "MemoizationPolicy", "select_prediction",
                                         "PolicyPredictionEnsemble", "DefaultPolicyPredictionEnsemble")),
]


class Meter:
    """Adds up the wall time of wrapped calls, per name, for the message being played."""

    def __init__(self) -> None:
        self.current: Dict[str, float] = defaultdict(float)
        self.calls: Dict[str, int] = defaultdict(int)

    def add(self, name: str, seconds: float) -> None:
        self.current[name] += seconds
        self.calls[name] += 1

    def take(self) -> Dict[str, float]:
        out, self.current = dict(self.current), defaultdict(float)
        return out

    def wrap_sync(self, owner: Any, attr: str, name: Callable[..., str]) -> None:
        fn = getattr(owner, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(name(*args), time.perf_counter() - t)

        setattr(owner, attr, timed)

    def wrap_async(self, owner: Any, attr: str, name: str) -> None:
        fn = getattr(owner, attr)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - t)

        setattr(owner, attr, timed)

    def wrap_lock(self, store: Any) -> None:
        fn = store.lock

        @contextlib.asynccontextmanager
        async def lock(*args: Any, **kwargs: Any):
            t = time.perf_counter()
            async with fn(*args, **kwargs) as held:
                self.add("conversation lock (acquire)", time.perf_counter() - t)
                yield held
            # the release is timed with the store's own work after the turn: negligible

        store.lock = lock


def _node_kind(node: Any, *inputs: Any) -> str:
    # GraphNode names are like "run_rasa.nlu.tokenizers.jieba_tokenizer.JiebaTokenizer1"
    name = getattr(node, "_node_name", "?")
    return f"graph node {name}"


def _group(name: str) -> Optional[str]:
    if not name.startswith("graph node "):
        return None
    for group, keys in GROUPS:
        if any(k in name for k in keys):
            return group
    return "other graph nodes"


async def _play(agent: Any, plan: List[tuple], limit: int, meter: Meter) -> List[Dict[str, float]]:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    rows: List[Dict[str, float]] = []
    n = 0
    for k, turns in enumerate(plan):
        sender = f"rest:costs-{k}"
        for text in turns:
            if n >= limit:
                return rows
            meter.take()
            out = CollectingOutputChannel()
            cpu, t = time.process_time(), time.perf_counter()
            await agent.handle_message(UserMessage(text, out, sender, input_channel="rest"))
            wall, cpu = time.perf_counter() - t, time.process_time() - cpu
            row = meter.take()
            row["message (wall, in process)"] = wall
            row["message (CPU of this process)"] = cpu
            row["chars"] = len(text)
            rows.append(row)
            n += 1
    return rows


def measure(messages: int = 200, log: Callable[[str], None] = print) -> Dict[str, Any]:
    """Loads the assistant here, plays `messages` of the mix, returns the parts' costs."""
    from rasa.engine.graph import GraphNode

    model = current_model()
    tmp = tempfile.TemporaryDirectory(prefix="bench-costs-")
    actions = ActionServer(log=Path(tmp.name) / "actions.log").spawn()
    try:
        env = base_env(
            ACTION_ENDPOINT_URL=actions.url, TRACKER_DB_URL=f"sqlite:///{tmp.name}/tracker.db",
            LOCK_DB_PATH=f"{tmp.name}/locks.db", STATE_DB_PATH=f"{tmp.name}/state.db", SANIC_WORKERS="1")
        import logging
        import warnings

        from rasa.utils.log_utils import configure_structlog

        from bot.entry import prepare

        # As quiet as the server at its default level: no per-event debug lines.
        logging.basicConfig(level=logging.WARNING)
        configure_structlog(logging.WARNING)
        warnings.filterwarnings("ignore")
        prepare(env)  # also puts these settings into os.environ, which endpoints.yml reads
        from rasa.core.actions.action import RemoteAction
        from rasa.core.agent import load_agent
        from rasa.core.utils import AvailableEndpoints

        meter = Meter()
        meter.wrap_sync(GraphNode, "__call__", _node_kind)
        meter.wrap_async(RemoteAction, "run", "action call (HTTP, the action, reply check)")
        meter.wrap_sync(RemoteAction, "_validate_action_result", lambda *a: "  of which: reply check")

        endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))
        loop = asyncio.new_event_loop()
        t = time.perf_counter()
        agent = loop.run_until_complete(load_agent(model_path=str(model), endpoints=endpoints))
        load_s = time.perf_counter() - t
        actions.wait()
        store = agent.tracker_store
        meter.wrap_async(store, "save", "conversation store: write the turn")
        meter.wrap_async(store, "retrieve", "conversation store: read the conversation")
        meter.wrap_lock(agent.lock_store)

        plan = load.schedule()
        warm = loop.run_until_complete(_play(agent, load.warm_up_plan(), 10_000, meter))
        log(f"[costs] model loaded in {load_s:.1f} s; warmed up with {len(warm)} messages")
        rows = loop.run_until_complete(_play(agent, plan, messages, meter))
        loop.close()
    finally:
        actions.stop()
        tmp.cleanup()
    return summarise(rows, store_type=type(store).__name__, lock_type=type(agent.lock_store).__name__,
                     model=os.path.relpath(model, ROOT))


def summarise(rows: List[Dict[str, float]], **info: Any) -> Dict[str, Any]:
    """Per part: calls per message, median and mean ms per message; the groups; what is left."""
    names = sorted({k for r in rows for k in r if k != "chars"})
    parts: Dict[str, Dict[str, float]] = {}
    for name in names:
        values = [1000 * r.get(name, 0.0) for r in rows]
        parts[name] = {"median_ms": round(statistics.median(values), 2),
                       "mean_ms": round(statistics.fmean(values), 2),
                       "messages_with": sum(1 for r in rows if name in r)}
    groups: Dict[str, List[float]] = defaultdict(lambda: [0.0] * len(rows))
    for i, r in enumerate(rows):
        for name, v in r.items():
            g = _group(name)
            if g:
                groups[g][i] += 1000 * v
    wall = [1000 * r["message (wall, in process)"] for r in rows]
    measured = [0.0] * len(rows)
    for i, r in enumerate(rows):
        measured[i] = 1000 * sum(v for k, v in r.items() if k.startswith(("graph node", "action call",
                                                                           "conversation")))
    left = [w - m for w, m in zip(wall, measured)]
    long_rows = [r for r in rows if r["chars"] > 15]
    short_rows = [r for r in rows if r["chars"] <= 15]
    return {
        **info,
        "messages": len(rows),
        "wall_ms": {"median": round(statistics.median(wall), 2), "mean": round(statistics.fmean(wall), 2),
                    "p95": round(sorted(wall)[int(0.95 * (len(wall) - 1))], 2)},
        "wall_ms_short_messages": _median_ms(short_rows, "message (wall, in process)"),
        "wall_ms_long_messages": _median_ms(long_rows, "message (wall, in process)"),
        "cpu_ms": {"median": parts["message (CPU of this process)"]["median_ms"],
                   "mean": parts["message (CPU of this process)"]["mean_ms"]},
        "groups": {g: {"median_ms": round(statistics.median(v), 2), "mean_ms": round(statistics.fmean(v), 2)}
                   for g, v in groups.items()},
        "rasa_bookkeeping_ms": {"median": round(statistics.median(left), 2), "mean": round(statistics.fmean(left), 2)},
        "parts": parts,
    }


def _median_ms(rows: List[Dict[str, float]], key: str) -> Optional[float]:
    return round(1000 * statistics.median(r[key] for r in rows), 2) if rows else None


def table(result: Dict[str, Any]) -> str:
    lines = [f"{result['messages']} messages; wall in process median {result['wall_ms']['median']} ms "
             f"(short {result['wall_ms_short_messages']}, long {result['wall_ms_long_messages']}), "
             f"mean {result['wall_ms']['mean']} ms; CPU mean {result['cpu_ms']['mean']} ms", "",
             "| part | median ms / message | mean ms / message |", "| --- | --- | --- |"]
    for g, v in sorted(result["groups"].items(), key=lambda kv: -kv[1]["mean_ms"]):
        lines.append(f"| {g} | {v['median_ms']} | {v['mean_ms']} |")
    for name, v in result["parts"].items():
        if not name.startswith("graph node") and not name.startswith("message"):
            lines.append(f"| {name.strip()} | {v['median_ms']} | {v['mean_ms']} |")
    b = result["rasa_bookkeeping_ms"]
    lines.append(f"| Rasa's own work between them (tracker, events, prediction loop) | {b['median']} | {b['mean']} |")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--json", action="store_true", help="print the whole result as JSON")
    ap.add_argument("--out", type=Path, help="also write the whole result as JSON to this file")
    a = ap.parse_args(argv)
    result = measure(a.messages)
    if a.out:
        a.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False) if a.json else table(result))
    return 0


def measure_in_child(tmp: Path, messages: int = 300, log: Callable[[str], None] = print,
                     timeout: float = 900) -> Dict[str, Any]:
    """`measure` in a child process (it loads Rasa and applies the patches in its process)."""
    import subprocess

    out = tmp / "costs.json"
    log(f"[bench] costs of one message, part by part ({messages} messages in one process) ...")
    r = subprocess.run([sys.executable, "-m", "bench.costs", "--messages", str(messages), "--out", str(out)],
                       cwd=ROOT, env=base_env(), capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0 or not out.exists():
        return {"error": f"exit code {r.returncode}: {r.stderr[-500:]}"}
    result = json.loads(out.read_text(encoding="utf-8"))
    log("[bench] " + table(result).splitlines()[0])
    return result


if __name__ == "__main__":
    sys.exit(main())
