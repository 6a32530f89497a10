"""Resident memory of a server process tree (psutil) and facts about the machine.

Two measures of a process tree's resident memory are kept:

* **PSS** (proportional set size, from /proc/PID/smaps_rollup): each resident page counted once,
  a page shared by n processes counted 1/n in each. Summed over the servers' processes it is the
  memory they hold together; it is what the memory target is judged on.
* **RSS summed** over the processes: a page shared by several processes (the Rasa workers are
  forked from one main process and share its pages) is counted once per process, so the sum
  overstates what several processes hold together. It is reported beside PSS.
"""
from __future__ import annotations

import os
import platform
import threading
import time
from typing import Dict, List, Optional

import psutil


def _tree_sum(pid: int, measure) -> int:
    """``measure(process)`` in bytes summed over a process and all its descendants (0 if gone)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += measure(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def tree_rss(pid: int) -> int:
    """RSS of a process tree: a page shared by several of its processes counted in each."""
    return _tree_sum(pid, lambda p: p.memory_info().rss)


def tree_pss(pid: int) -> int:
    """PSS of a process tree (RSS where PSS cannot be read)."""
    return _tree_sum(pid, lambda p: getattr(p.memory_full_info(), "pss", None) or p.memory_info().rss)


class RssSampler:
    """Samples the RSS of named process trees every `interval` seconds in a thread; keeps the peaks."""

    def __init__(self, pids: Dict[str, int], interval: float = 0.5) -> None:
        self.pids = pids
        self.interval = interval
        self.peak: Dict[str, int] = {name: 0 for name in pids}
        self.peak_total = 0
        self.peak_pss: Dict[str, int] = {name: 0 for name in pids}
        self.peak_total_pss = 0
        self.last_pss: Dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def sample(self) -> Dict[str, int]:
        now = {name: tree_rss(pid) for name, pid in self.pids.items()}
        for name, v in now.items():
            self.peak[name] = max(self.peak[name], v)
        self.peak_total = max(self.peak_total, sum(now.values()))
        pss = {name: tree_pss(pid) for name, pid in self.pids.items()}
        for name, v in pss.items():
            self.peak_pss[name] = max(self.peak_pss[name], v)
        self.peak_total_pss = max(self.peak_total_pss, sum(pss.values()))
        self.last_pss = pss
        return now

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> "RssSampler":
        self.sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.sample()


def mb(n: int) -> float:
    return round(n / 2**20, 1)


def machine() -> Dict[str, object]:
    vm = psutil.virtual_memory()
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": round(vm.total / 2**30, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def busy_processes(exclude: List[int], min_cpu: float = 20.0, sample_s: float = 1.0) -> List[Dict[str, object]]:
    """Other processes using a noticeable share of a core right now (who else loads the machine)."""
    procs = []
    for p in psutil.process_iter(["pid", "name", "cmdline"]):
        try:
            p.cpu_percent(None)
            procs.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    time.sleep(sample_s)
    out = []
    for p in procs:
        try:
            cpu = p.cpu_percent(None)
            if cpu >= min_cpu and p.pid not in exclude:
                out.append({"pid": p.pid, "cpu_percent": round(cpu), "cmd": " ".join(p.info["cmdline"] or [p.info["name"]])[:80]})
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return sorted(out, key=lambda d: -d["cpu_percent"])
