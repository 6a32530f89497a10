"""`make bench`: our assistant and a stock `rasa init` assistant under the same bounded loopback load.

For each of them: time from start to the first answer, model size, training time, resident memory
(process trees, psutil), and for 1 user and for 20 concurrent users p50 / p95 / p99 latency,
messages per second, errors and server CPU time per message. Our figures are also given as ratios
to the reference's, and judged against the targets (bench/stats.py). Results go to
bench/results/<date>.json and bench/results/latest.md.

usage: python -m bench.run [--quick] [--train] [--no-profile] [--levers] [--no-reference]
                           [--max-messages-1 N] [--max-messages-20 N] [--max-seconds S]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import psutil

from bench import costs, load, procs, profile, report
from bench.reference import CACHE, reference_model, rasa_version
from bench.stats import evaluate_targets, summarize
from bot.launcher import ROOT, ActionServer, RasaServer, base_env, current_model, free_port

RESULTS = ROOT / "bench" / "results"
PATCHES = ROOT / "bench" / "patches"
LOGS = ROOT / "results" / "bench-logs"


def log(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------------------------------------
# Servers


def endpoints_file(tmp: Path, tracker: str) -> Optional[Path]:
    """An endpoints.yml like ours with another tracker store; None keeps ours (SQLite)."""
    if tracker == "sql":
        return None
    text = (ROOT / "endpoints.yml").read_text(encoding="utf-8")
    head, _, rest = text.partition("tracker_store:")
    lock = rest[rest.index("lock_store:"):]
    path = tmp / "endpoints-in-memory.yml"
    path.write_text(head + "tracker_store:\n  type: in_memory\n\n" + lock, encoding="utf-8")
    return path


@contextmanager
def redis_server(tmp: Path) -> Iterator[int]:
    """A throw-away Redis on a free loopback port, no persistence."""
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Servers:
    """Action server (optional) and Rasa server started together, as scripts/serve.sh does."""

    def __init__(self, model: Path, with_actions: bool, log_dir: Path, env: Dict[str, str],
                 extra_args: List[str], stock: bool = False) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.actions = ActionServer(env=env, log=log_dir / "actions.log") if with_actions else None
        self.rasa = RasaServer(self.actions.url if self.actions else None, model=model, env=env,
                               extra_args=extra_args, log=log_dir / "rasa.log", stock=stock)
        self.timings: Dict[str, float] = {}

    def start(self) -> Dict[str, float]:
        t0 = time.perf_counter()
        errors: List[BaseException] = []

        def start_actions() -> None:
            try:
                self.actions.start(timeout=120)
                self.timings["actions_ready_s"] = round(time.perf_counter() - t0, 2)
            except BaseException as e:  # reported after the Rasa server's start
                errors.append(e)

        th = None
        if self.actions:
            th = threading.Thread(target=start_actions)
            th.start()
        try:
            self.rasa.start(timeout=240)
            self.timings["rasa_http_ready_s"] = round(time.perf_counter() - t0, 2)
        finally:
            if th:
                th.join(timeout=150)
        if errors:
            raise errors[0]
        # Ready = the first message answered (the model is loaded before Sanic accepts
        # connections; the first answer also pays TensorFlow's first-call tracing).
        body = json.dumps({"sender": "bench-ready", "message": "你好"}).encode()
        req = urllib.request.Request(self.rasa.rest, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            r.read()
        self.timings["ready_s"] = round(time.perf_counter() - t0, 2)
        return self.timings

    def pids(self) -> Dict[str, int]:
        out = {"rasa": self.rasa.proc.pid}
        if self.actions:
            out["actions"] = self.actions.proc.pid
        return out

    def stop(self) -> None:
        self.rasa.cleanup()
        if self.actions:
            self.actions.stop()


def cpu_seconds(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total
    except psutil.NoSuchProcess:
        return 0.0


# ---------------------------------------------------------------------------------------------
# One assistant under load


def measure(name: str, model: Path, with_actions: bool, levels: List[Tuple[int, int, float]],
            log_dir: Path, env: Optional[Dict[str, str]] = None, extra_args: Optional[List[str]] = None,
            profile_to: Optional[Dict[str, Any]] = None, stock: bool = False) -> Dict[str, Any]:
    """Start, warm up, drive each (users, max_messages, max_seconds) level, stop; the figures."""
    out: Dict[str, Any] = {
        "model": os.path.relpath(model, ROOT),
        "model_size_mb": procs.mb(model.stat().st_size),
        "load": [],
    }
    for old in ("rasa.log", "actions.log"):  # the logs are appended to: this run's only
        (log_dir / old).unlink(missing_ok=True)
    servers = Servers(model, with_actions, log_dir, env or {}, extra_args or [], stock=stock)
    log(f"[bench] {name}: starting ({out['model']}, {out['model_size_mb']} MB)")
    try:
        out["startup"] = servers.start()
        log(f"[bench] {name}: ready in {out['startup']['ready_s']} s")
        warm = load.warm_up(servers.rasa.rest)
        bad = [s.error for s in warm if s.error]
        out["warmup"] = {"messages": len(warm), "errors": len(bad)}
        if bad:
            log(f"[bench] {name}: warm-up errors: {bad[:3]}")
        pids = servers.pids()
        with procs.RssSampler(pids) as sampler:
            idle = sampler.sample()
            idle_pss = dict(sampler.last_pss)
            for users, max_messages, max_seconds in levels:
                cpu0 = {k: cpu_seconds(p) for k, p in pids.items()}
                load_before = round(os.getloadavg()[0], 2)
                samples, elapsed = load.drive(servers.rasa.rest, users, max_messages, max_seconds,
                                              tag=f"{name}-{users}")
                s = summarize(samples, users, elapsed).as_dict()
                for k, p in pids.items():
                    used = cpu_seconds(p) - cpu0[k]
                    s[f"cpu_ms_per_msg_{k}"] = round(1000 * used / max(s["messages"], 1), 1)
                    s[f"cpu_cores_{k}"] = round(used / elapsed, 2) if elapsed else None
                s["load_average_1m_before"] = load_before
                s["load_average_1m_after"] = round(os.getloadavg()[0], 2)
                out["load"].append(s)
                log(f"[bench] {name}: {users:>2} users: {s['messages']} msgs in {s['elapsed_s']} s, "
                    f"{s['msgs_per_s']} msgs/s, p50 {s['p50_ms']} p95 {s['p95_ms']} p99 {s['p99_ms']} ms, "
                    f"{s['errors']} errors")
            if profile_to is not None:
                users, max_messages, max_seconds = profile_to["level"]
                profile_to.update(profile.record_during(
                    pids, lambda: load.drive(servers.rasa.rest, users, max_messages, max_seconds,
                                             tag=f"{name}-profile"),
                    profile_to["stamp"], log=log))
        out["memory"] = {
            **{f"idle_{k}_mb": procs.mb(v) for k, v in idle.items()},
            "idle_total_mb": procs.mb(sum(idle.values())),
            **{f"peak_{k}_mb": procs.mb(v) for k, v in sampler.peak.items()},
            "peak_total_mb": procs.mb(sampler.peak_total),
            **{f"pss_idle_{k}_mb": procs.mb(v) for k, v in idle_pss.items()},
            "pss_idle_total_mb": procs.mb(sum(idle_pss.values())),
            **{f"pss_peak_{k}_mb": procs.mb(v) for k, v in sampler.peak_pss.items()},
            "pss_peak_total_mb": procs.mb(sampler.peak_total_pss),
            "processes": {k: 1 + len(psutil.Process(p).children(recursive=True)) for k, p in pids.items()},
        }
    finally:
        servers.stop()
    out["jieba_reads"] = {k: jieba_reads(log_dir / f"{k}.log") for k in ("rasa", "actions")
                          if (log_dir / f"{k}.log").exists()}
    return out


JIEBA_READ = "Building prefix dict"  # what jieba logs each time it reads its dictionary


def jieba_reads(log_file: Path) -> int:
    """How many times the processes writing this log read jieba's dictionary."""
    return log_file.read_text(encoding="utf-8", errors="replace").count(JIEBA_READ)


READY_LINE = "已就绪"


def shell_start(tmp: Path, question: str = "开化县是山区县吗", timeout: float = 300) -> Dict[str, Any]:
    """`make shell`'s own start: `python -m bot.shell` on a pipe, timed from the command to its
    ready line and to the first answer, with jieba's dictionary reads counted in its output. It
    finds its model itself (as `make shell` does) and keeps its log and staff database in tmp."""
    env = base_env(VAR_DIR=str(tmp / "shell-var"), TRACKER_DB_URL=f"sqlite:///{tmp}/shell-staff.db",
                   PYTHONUNBUFFERED="1")
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bot.shell"], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8",
                            start_new_session=True)
    out: Dict[str, Any] = {}
    lines: List[str] = []
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        assert proc.stdout is not None and proc.stdin is not None
        for line in proc.stdout:
            lines.append(line)
            if READY_LINE in line and "ready_s" not in out:
                out["ready_s"] = round(time.perf_counter() - started, 2)
                proc.stdin.write(question + "\n")
                proc.stdin.flush()
            elif "ready_s" in out and "first_answer_s" not in out and "助手：" in line:
                out["first_answer_s"] = round(time.perf_counter() - started, 2)
                proc.stdin.write("/exit\n")
                proc.stdin.flush()
        proc.wait(timeout=60)
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = "".join(lines)
    out["jieba_reads"] = text.count(JIEBA_READ)
    out["exit_code"] = proc.returncode
    if "ready_s" not in out:
        out["error"] = f"no ready line (exit code {proc.returncode}): {text[-300:]!r}"
    log(f"[bench] staff shell: ready in {out.get('ready_s', '–')} s, first answer at "
        f"{out.get('first_answer_s', '–')} s, jieba dictionary read {out['jieba_reads']} time(s)")
    return out


def time_training(tmp: Path) -> Dict[str, Any]:
    """A full training of our model (private cache, temporary output); ours stays untouched."""
    subprocess.run([sys.executable, "scripts/train.py", "--export-only"], cwd=ROOT, check=True,
                   env=base_env(), capture_output=True)
    out_dir = tmp / "trained"
    env = base_env(RASA_CACHE_DIRECTORY=str(tmp / "cache"))
    cmd = [sys.executable, "-m", "rasa", "train", "--config", "bot/config.yml", "--domain", "bot/domain",
           "--data", "nlu_data", "bot/data", "build/nlu", "--out", str(out_dir),
           "--fixed-model-name", "bench-training"]
    log("[bench] timing a full training of our model into a temporary directory ...")
    LOGS.mkdir(parents=True, exist_ok=True)
    with open(LOGS / "train.log", "wb") as f:
        started = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT, check=True,
                       timeout=1800, stdin=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
    log(f"[bench] training took {seconds:.0f} s")
    return {"seconds": round(seconds, 1), "source": "timed in this run (rasa train, empty cache)",
            "load_average_1m_after": round(os.getloadavg()[0], 2)}


def previous_training(model: Path) -> Dict[str, Any]:
    """Our training time from an earlier result for the same model, if any."""
    for path in sorted(RESULTS.glob("*.json"), reverse=True):
        try:
            data = json.loads(path.read_text())
        except ValueError:
            continue
        t = data.get("ours", {}).get("training", {})
        if t.get("seconds") is not None and data["ours"].get("model") == os.path.relpath(model, ROOT):
            return dict(t, source=f"{t.get('source', '')}; carried over from {path.name}".lstrip("; "))
    return {"seconds": None, "source": "not timed (run with --train)"}


_FOOTPRINT = r"""
import json, sys, psutil
p = psutil.Process()
rss = lambda: round(p.memory_info().rss / 2**20, 1)
out = {"python": rss()}
import rasa_sdk.endpoint
out["rasa_sdk"] = rss()
from policy_kb import get_kb
get_kb()
out["policy_kb"] = rss()
import actions.answer
out["actions"] = rss()
out["tensorflow_imported"] = "tensorflow" in sys.modules
out["rasa_imported"] = "rasa" in sys.modules
print(json.dumps(out))
"""


def actions_import_footprint() -> Dict[str, Any]:
    """RSS (MB) of a fresh interpreter after each import the action server makes, and whether the
    actions pull in Rasa and TensorFlow (which the action server itself never needs)."""
    try:
        r = subprocess.run([sys.executable, "-c", _FOOTPRINT], cwd=ROOT, env=base_env(), capture_output=True,
                           text=True, timeout=180)
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError) as e:
        return {"error": f"{type(e).__name__}: {e}"}


# ---------------------------------------------------------------------------------------------
# Levers: one change at a time against a baseline, ours only, 1 and 20 users.


def lever_variants(tmp: Path) -> List[Tuple[str, Dict[str, str], List[str], str]]:
    mem = endpoints_file(tmp, "in_memory")
    return [
        ("baseline", {}, [], "as `make run`: SQLite tracker store, 1 Sanic worker each, TF defaults"),
        ("tf-threads-1", {"TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1"}, [],
         "TensorFlow intra-op and inter-op pools of 1 thread"),
        ("actions-2-workers", {"ACTION_SERVER_SANIC_WORKERS": "2"}, [], "action server with 2 Sanic workers"),
        ("in-memory-tracker", {}, ["--endpoints", str(mem)], "in-memory tracker store instead of SQLite"),
        ("rasa-2-workers-redis", {"SANIC_WORKERS": "2", "LOCK_STORE_TYPE": "bot.locks.RedisLockStore"}, [],
         "Rasa server with 2 Sanic workers, atomic Redis lock store (SQLite tracker store shared)"),
        ("rasa-2-workers-sqlite-locks", {"SANIC_WORKERS": "2", "LOCK_STORE_TYPE": "bot.locks.SQLiteLockStore"}, [],
         "Rasa server with 2 Sanic workers, atomic SQLite lock store (no outside server)"),
        ("action-validator-cached", {"PYTHONPATH": f"{PATCHES / 'validator_cache'}:{ROOT}"}, [],
         "Rasa validates each action reply with a jsonschema validator compiled once "
         "(bench/patches/validator_cache), not jsonschema.validate"),
    ]


def run_levers(model: Path, tmp: Path, level_1: Tuple[int, int, float],
               level_20: Tuple[int, int, float], only: Optional[set] = None,
               on_each=None) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    for name, env, extra, what in lever_variants(tmp):
        if only and name not in only:
            continue
        if name.endswith("-redis") and not shutil.which("redis-server"):
            out.append({"name": name, "what": what, "skipped": "redis-server not installed"})
            if on_each:
                on_each(out[-1])
            continue
        try:
            if "Redis" in env.get("LOCK_STORE_TYPE", ""):
                with redis_server(tmp) as port:
                    r = measure(f"lever {name}", model, True, [level_1, level_20], LOGS / f"lever-{name}",
                                env=dict(env, REDIS_PORT=str(port), REDIS_HOST="127.0.0.1"), extra_args=extra)
            else:
                r = measure(f"lever {name}", model, True, [level_1, level_20], LOGS / f"lever-{name}",
                            env=env, extra_args=extra)
            out.append({"name": name, "what": what, "env": env, **r})
        except Exception as e:  # one lever failing to start is a finding, not the end of the run
            log(f"[bench] lever {name} failed: {type(e).__name__}: {e}")
            out.append({"name": name, "what": what, "env": env, "failed": f"{type(e).__name__}: {e}"})
        if on_each:
            on_each(out[-1])
    return out


# ---------------------------------------------------------------------------------------------


def save(result: Dict[str, Any], started: float, stamp: str, no_save: bool, final: bool = False) -> None:
    """Judge, render and write what has been measured so far (after every phase, so that a run cut
    short still leaves its figures); the final call also prints the report."""
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["duration_s"] = round(time.time() - started, 1)
    result["complete"] = final
    result["targets"] = evaluate_targets(result)
    text = report.markdown(result)
    if final:
        print()
        print(text)
    if no_save:
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{stamp}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    if not stamp.endswith("-levers"):
        (RESULTS / "latest.md").write_text(text, encoding="utf-8")
    if final:
        log(f"[bench] results: {os.path.relpath(path, ROOT)}"
            + ("" if stamp.endswith("-levers") else ", bench/results/latest.md"))


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small bounds, for trying the bench itself")
    ap.add_argument("--train", action="store_true",
                    help="also time a full training of our model (into a temporary directory)")
    ap.add_argument("--no-profile", action="store_true",
                    help="skip the py-spy profile of both servers under 20 users (skipped anyway without py-spy)")
    ap.add_argument("--levers", nargs="?", const="all", default=None, metavar="NAMES",
                    help="also measure TF threads, Sanic workers and the tracker store one at a time "
                         "(all, or comma-separated variant names)")
    ap.add_argument("--levers-only", action="store_true",
                    help="only the levers (implies --levers, no reference, no main run); results go to "
                         "<date>-levers.json and latest.md is left alone")
    ap.add_argument("--no-reference", action="store_true", help="skip the stock `rasa init` assistant")
    ap.add_argument("--rebuild-reference", action="store_true", help="retrain the cached reference")
    ap.add_argument("--max-messages-1", type=int, default=None)
    ap.add_argument("--max-messages-20", type=int, default=None)
    ap.add_argument("--max-seconds", type=float, default=None, help="time limit of each load level")
    ap.add_argument("--no-save", action="store_true", help="print the report, keep no result file")
    a = ap.parse_args(argv)
    if a.levers_only:
        a.no_reference, a.no_profile, a.levers = True, True, a.levers or "all"

    n1 = a.max_messages_1 or (20 if a.quick else 150)
    n20 = a.max_messages_20 or (60 if a.quick else 600)
    secs = a.max_seconds or (30.0 if a.quick else 90.0)
    levels = [(1, n1, secs), (20, n20, secs)]
    stamp = time.strftime("%Y-%m-%d-%H%M")
    started = time.time()

    result: Dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": procs.machine(),
        "rasa_version": rasa_version(),
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "settings": {"levels": [{"users": u, "max_messages": m, "max_seconds": s} for u, m, s in levels],
                     "mix": load.describe_mix(),
                     "quick": a.quick},
    }
    result["machine"]["busy_processes_at_start"] = procs.busy_processes(exclude=[os.getpid()])
    log(f"[bench] {result['machine']['cpu_count']} cores, load average {result['machine']['load_average']}")

    model = current_model()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmpname:
        tmp = Path(tmpname)
        if not a.no_reference:
            ref = reference_model(rebuild=a.rebuild_reference, log=log)
            # Stock as `rasa init` makes it: its endpoints.yml configures no stores, so Rasa's
            # defaults apply (conversations and locks in memory) with its default single worker;
            # only the REST channel, which the load uses.
            stock_credentials = tmp / "credentials-stock.yml"
            stock_credentials.write_text("rest:\n", encoding="utf-8")
            stock_endpoints = tmp / "endpoints-stock.yml"
            stock_endpoints.write_text("# rasa init's endpoints.yml: every entry commented out\n", encoding="utf-8")
            # Started with Rasa's own `rasa run`: none of our patches (bot/entry.py) apply to it.
            result["reference"] = measure("reference", ref["model"], False, levels, LOGS / "reference",
                                          env={"SANIC_WORKERS": "1"}, stock=True,
                                          extra_args=["--credentials", str(stock_credentials),
                                                      "--endpoints", str(stock_endpoints)])
            save(result, started, stamp, a.no_save)
            # The same stock assistant keeping conversations in a SQLite file with Rasa's own SQL
            # store, as a durable assistant must (and as earlier runs measured the reference).
            sqlite_endpoints = tmp / "endpoints-stock-sqlite.yml"
            sqlite_endpoints.write_text(
                f"tracker_store:\n  type: SQL\n  url: sqlite:///{tmp}/stock-tracker.db\n", encoding="utf-8")
            result["reference_sqlite"] = measure(
                "reference (SQLite store)", ref["model"], False, [lv for lv in levels if lv[0] == 20],
                LOGS / "reference-sqlite", env={"SANIC_WORKERS": "1"}, stock=True,
                extra_args=["--credentials", str(stock_credentials), "--endpoints", str(sqlite_endpoints)])
            save(result, started, stamp, a.no_save)
            result["reference"]["training"] = {
                "seconds": ref["train_seconds"],
                "source": ("timed in this run" if not ref["cached"] else f"cached, trained {ref['trained_at']}")
                + " (rasa init --no-prompt, empty cache)",
                "config": "rasa init defaults (moodbot)",
            }
        if not a.levers_only:
            prof = None if a.no_profile else {"level": (20, n20, min(secs, 30.0)), "stamp": stamp}
            result["ours"] = measure("ours", model, True, levels, LOGS / "ours", profile_to=prof)
            if prof:
                prof.pop("level")
                result["profile"] = prof
            save(result, started, stamp, a.no_save)
            result["costs"] = costs.measure_in_child(tmp, messages=100 if a.quick else 300, log=log)
            save(result, started, stamp, a.no_save)
            result["shell"] = shell_start(tmp)
            save(result, started, stamp, a.no_save)
            result["ours"]["training"] = time_training(tmp) if a.train else previous_training(model)
            result["actions_import"] = actions_import_footprint()
            save(result, started, stamp, a.no_save)
        else:
            stamp += "-levers"
        if a.levers:
            lv_levels = ((1, min(n1, 50), secs), (20, min(n20, 250), min(secs, 60.0)))
            only = None if a.levers == "all" else set(a.levers.split(","))
            result["levers"] = []
            run_levers(model, tmp, *lv_levels, only=only,
                       on_each=lambda r: (result["levers"].append(r), save(result, started, stamp, a.no_save)))

    save(result, started, stamp, a.no_save, final=True)
    return 0


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


if __name__ == "__main__":
    sys.exit(main())
