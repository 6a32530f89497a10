"""Waits until every URL answers HTTP 200, or fails early when a watched process has exited."""
from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.request


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except Exception:
        return False


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("urls", nargs="+")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--pids", nargs="*", type=int, default=[])
    a = ap.parse_args()
    deadline = time.monotonic() + a.timeout
    pending = list(a.urls)
    while pending and time.monotonic() < deadline:
        pending = [u for u in pending if not ready(u)]
        if pending and any(not alive(p) for p in a.pids):
            print("a server exited before it was ready", file=sys.stderr)
            return 1
        if pending:
            time.sleep(0.5)
    if pending:
        print(f"not ready after {a.timeout:.0f} s: {pending}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
