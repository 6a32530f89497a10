"""`make run` (scripts/serve.sh) keeps both servers running: a crashed action server is restarted
while Rasa goes on answering with the apology, and a crashed Rasa server is restarted with its
conversations intact. Faults are real: the processes are killed with SIGKILL."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable, List

import psutil
import pytest
import requests

from bot.channels.guard import APOLOGY
from bot.launcher import ROOT, base_env, current_model, free_port
from tests.robustness.conftest import customs, need_model, new_sender, post, texts, verdicts

pytestmark = pytest.mark.e2e


def wait_for(check: Callable[[], bool], timeout: float, what: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"serve.sh exited with {proc.returncode} while waiting for {what}"
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def server_pids(supervisor: int, module: str) -> List[int]:
    """Main processes (not Sanic's workers) started by the supervisor, by their `-m` module."""
    out = []
    for child in psutil.Process(supervisor).children():
        try:
            cmd = child.cmdline()
        except psutil.NoSuchProcess:
            continue
        if "-m" in cmd and cmd[cmd.index("-m") + 1] == module:
            out.append(child.pid)
    return out


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    need_model()
    tmp_path = tmp_path_factory.mktemp("served")
    rasa_port, actions_port = free_port(), free_port()
    env = base_env(
        RASA_PORT=str(rasa_port), ACTIONS_PORT=str(actions_port), VAR_DIR=str(tmp_path / "var"),
        TRACKER_DB_URL=f"sqlite:///{tmp_path}/tracker.db",
        ACTION_ENDPOINT_URL=f"http://127.0.0.1:{actions_port}/webhook",
        LOCK_DB_PATH=str(tmp_path / "locks.db"), STATE_DB_PATH=str(tmp_path / "state.db"),
        RASA_MODEL=str(current_model()), SANIC_WORKERS="1", ACTION_REPLY_TIMEOUT="6",
        SUPERVISE_BACKOFF_S="1", SUPERVISE_PROBE_S="1",
    )
    out = open(tmp_path / "serve.out", "wb")
    proc = subprocess.Popen(["scripts/serve.sh"], cwd=ROOT, env=env, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    rest = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
    try:
        wait_for(lambda: "is running" in (tmp_path / "serve.out").read_text(errors="replace"),
                 300, "the assistant to start", proc)
        yield proc, rest, tmp_path
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # as systemd or Ctrl-C would
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        out.close()


def answered(rest: str) -> bool:
    r = post(rest, new_sender("supervised"), "开化县是山区县吗", timeout=30)
    return r.status_code == 200 and any(c.get("county", {}).get("name") == "开化县"
                                        for c in customs(r.json()))


def test_a_killed_action_server_is_restarted_while_rasa_apologises(served):
    proc, rest, tmp = served
    [actions] = server_pids(proc.pid, "rasa_sdk")
    [rasa] = server_pids(proc.pid, "bot.entry")
    assert answered(rest)

    os.killpg(actions, signal.SIGKILL)
    # Rasa is still there and says that it cannot answer now (not a refused connection).
    r = post(rest, new_sender("supervised"), "开化县是山区县吗", timeout=30)
    assert r.status_code == 200 and texts(r.json()) == [APOLOGY]

    wait_for(lambda: answered(rest), 120, "answers after the action server's restart", proc)
    [again] = server_pids(proc.pid, "rasa_sdk")
    assert again != actions
    assert server_pids(proc.pid, "bot.entry") == [rasa], "Rasa must not be restarted for it"
    log = (tmp / "var" / "logs" / "actions.log").read_text(errors="replace")
    assert "supervisor: exited with code -9; restarting in 1 s" in log


def test_a_killed_rasa_server_is_restarted_and_the_conversation_goes_on(served):
    proc, rest, tmp = served
    [rasa] = server_pids(proc.pid, "bot.entry")
    [actions] = server_pids(proc.pid, "rasa_sdk")
    sender = new_sender("supervised")
    assert verdicts(post(rest, sender, "博士后出站补助我能拿吗").json()) == ["need_info"]

    os.killpg(rasa, signal.SIGKILL)
    wait_for(lambda: post(rest, new_sender("probe"), "你好", timeout=10).status_code == 200,
             300, "Rasa answering after its restart", proc)
    assert server_pids(proc.pid, "bot.entry") != [rasa]
    assert server_pids(proc.pid, "rasa_sdk") == [actions]
    post(rest, sender, "去遂昌")
    assert verdicts(post(rest, sender, "民营企业").json()) == ["eligible"]

    # Ctrl-C / SIGTERM still stops everything.
    children = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    time.sleep(0.5)
    assert [p for p in children if psutil.pid_exists(p)
            and psutil.Process(p).status() != psutil.STATUS_ZOMBIE] == []
