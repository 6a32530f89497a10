"""Sampling profiles of the servers under load with py-spy (not a project dependency).

py-spy is looked for in .venv/bin, in bench/.cache/tools/bin (git-ignored; install with
`.tools/bin/uv pip install --python .venv/bin/python --target bench/.cache/tools py-spy`, which
`uv sync` leaves alone) and on PATH. It needs ptrace on the servers' processes. Each server gets a flame graph (SVG, kept beside the results)
and a collapsed-stack recording, summarised here into where the CPU time went.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent

# Where a sample's stack spends its time, by the first matching frame file (innermost wins).
CATEGORIES: List[Tuple[str, Tuple[str, ...]]] = [
    ("TensorFlow (DIET / policies inference)", ("tensorflow/", "keras/")),
    ("JSON schema validation (jsonschema)", ("jsonschema/",)),
    ("tracker store (SQLAlchemy / SQLite)", ("sqlalchemy/", "sqlite3/", "tracker_store.py")),
    ("jieba tokenizer", ("jieba/",)),
    ("featurizers (sklearn / scipy)", ("sklearn/", "scipy/", "featurizers/")),
    ("our NLU components (bot/components)", (f"{ROOT}/bot/components/",)),
    ("knowledge base (policy_kb)", (f"{ROOT}/policy_kb/",)),
    ("actions (actions/)", (f"{ROOT}/actions/",)),
    ("rasa_sdk", ("rasa_sdk/",)),
    ("tracker / events (de)serialisation", ("shared/core/trackers.py", "shared/core/events.py", "json/", "copy.py")),
    ("policies and featurizers (rasa/core)", ("rasa/core/policies/", "rasa/core/featurizers/")),
    ("remote action call (rasa/core/actions)", ("rasa/core/actions/",)),
    ("domain (rasa/shared/core/domain.py)", ("shared/core/domain.py",)),
    ("other Rasa", ("rasa/",)),
    ("Sanic / aiohttp / asyncio", ("sanic/", "aiohttp/", "asyncio/", "uvloop")),
]


def py_spy() -> str:
    for exe in (Path(sys.executable).parent / "py-spy", ROOT / "bench" / ".cache" / "tools" / "bin" / "py-spy"):
        if exe.exists():
            return str(exe)
    return shutil.which("py-spy") or ""


def parse_collapsed(text: str) -> Counter:
    """py-spy's raw (collapsed) output: 'frame;frame;... count' per line → Counter of stacks."""
    stacks: Counter = Counter()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] += int(count)
    return stacks


def _frame_file(frame: str) -> str:
    # "function (path/to/file.py:123)"
    start = frame.rfind("(")
    return frame[start + 1:].rstrip(")") if start >= 0 else frame


# Leaf frames of a thread that waits for work (py-spy cannot always tell idle from busy when it
# samples without pausing the process).
IDLE_LEAVES = ("sanic/server/runners.py", "selectors.py", "asyncio/base_events.py", "threading.py",
               # the main process of several Sanic workers, waiting for them
               "multiprocessing/popen_fork.py")
IDLE = "idle (event loop waiting)"


def categorise(stacks: Counter) -> Dict[str, float]:
    """Share of samples per category, by the innermost frame that matches one (else 'other')."""
    total = sum(stacks.values()) or 1
    out: Counter = Counter()
    for stack, n in stacks.items():
        frames = stack.split(";")
        name = "other"
        if any(k in _frame_file(frames[-1]) for k in IDLE_LEAVES):
            out[IDLE] += n
            continue
        for frame in reversed(frames):
            f = _frame_file(frame)
            hit = next((c for c, keys in CATEGORIES if any(k in f for k in keys)), None)
            if hit:
                name = hit
                break
        out[name] += n
    return {k: round(100 * v / total, 1) for k, v in out.most_common()}


def top_self(stacks: Counter, n: int = 12) -> List[Tuple[str, float]]:
    total = sum(stacks.values()) or 1
    leaf: Counter = Counter()
    for stack, k in stacks.items():
        leaf[stack.split(";")[-1]] += k
    return [(f, round(100 * k / total, 1)) for f, k in leaf.most_common(n)]


def record_during(pids: Dict[str, int], work: Callable[[], Any], out_dir: Path, stamp: str,
                  log=print, rate: int = 50) -> Dict[str, Any]:
    """Profile every pid while work() runs; flame graphs to out_dir, a summary back."""
    exe = py_spy()
    if not exe:
        log("[bench] py-spy not found: no profile (see bench/profile.py)")
        return {"error": "py-spy not installed"}
    tmp = out_dir / ".profile-tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    spies = []
    for name, pid in pids.items():
        for fmt, path in (("flamegraph", out_dir / f"profile-{stamp}-{name}.svg"),
                          ("raw", tmp / f"{name}.txt")):
            cmd = [exe, "record", "--pid", str(pid), "--rate", str(rate), "--nonblocking",
                   "--subprocesses", "--format", fmt, "--output", str(path), "--duration", "600"]
            spies.append((name, fmt, path, subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)))
    time.sleep(1.0)
    samples, elapsed = work()
    for *_, proc in spies:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
    result: Dict[str, Any] = {"messages": len(samples), "elapsed_s": round(elapsed, 1), "rate_hz": rate,
                              "servers": {}}
    for name, fmt, path, proc in spies:
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        if not path.exists():
            result["servers"].setdefault(name, {})["error"] = (err or b"").decode(errors="replace")[-400:]
            continue
        if fmt == "flamegraph":
            result["servers"].setdefault(name, {})["flamegraph"] = path.name
        else:
            stacks = parse_collapsed(path.read_text(encoding="utf-8", errors="replace"))
            result["servers"].setdefault(name, {}).update(
                samples=sum(stacks.values()), categories=categorise(stacks), top_self=top_self(stacks))
    keep = ROOT / "bench" / ".cache" / "profiles" / stamp  # collapsed stacks, for a closer look
    keep.mkdir(parents=True, exist_ok=True)
    for f in tmp.glob("*.txt"):
        shutil.move(str(f), keep / f.name)
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"[bench] profiles: {', '.join(s.get('flamegraph', '?') for s in result['servers'].values())}")
    return result
