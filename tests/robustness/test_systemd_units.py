"""The production service units (deploy/systemd/) are valid for systemd, restart a server that
exits with back-off, keep Rasa up when the action server fails, and run the real servers."""
from __future__ import annotations

import configparser
import os
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import requests

from bot.launcher import ROOT, base_env, current_model, free_port, wait_http
from tests.robustness.conftest import customs, need_model, new_sender, post

UNITS = ROOT / "deploy" / "systemd"
# systemd 254 added these; older versions warn about them and restart at a fixed interval.
NEWER_KEYS = ("RestartSteps", "RestartMaxDelaySec")


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(UNITS / name, encoding="utf-8")
    return parser


def test_units_pass_systemd_analyze_verify():
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not installed")
    r = subprocess.run(["systemd-analyze", "verify", *sorted(map(str, UNITS.glob("*.service")))],
                       capture_output=True, text=True, timeout=60)
    complaints = [line for line in (r.stdout + r.stderr).splitlines()
                  if line.strip() and not any(f"Unknown key '{k}'" in line for k in NEWER_KEYS)]
    assert r.returncode == 0 and complaints == [], "\n".join(complaints)


@pytest.mark.parametrize("name", ["shanqu26-actions.service", "shanqu26-rasa.service"])
def test_each_server_is_restarted_with_back_off_and_never_given_up(name):
    u = unit(name)
    service = u["Service"]
    assert service["Restart"] == "always"
    assert float(service["RestartSec"]) <= 2
    assert int(service["RestartSteps"]) > 0 and service["RestartMaxDelaySec"] == "30"
    assert u["Unit"]["StartLimitIntervalSec"] == "0"
    assert service["KillMode"] == "control-group"  # Sanic's workers stop with the unit


def test_rasa_wants_the_action_server_but_does_not_stop_with_it():
    u = unit("shanqu26-rasa.service")["Unit"]
    assert "shanqu26-actions.service" in u["Wants"].split()
    for key in ("Requires", "BindsTo", "PartOf", "Requisite"):
        assert key not in u, f"{key}= would stop Rasa when the action server fails"


def run_exec(command: str, env: dict, **kwargs) -> subprocess.Popen:
    """An Exec*= line of a unit, run in this checkout as its WorkingDirectory."""
    argv = shlex.split(command)
    return subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True, **kwargs)


@pytest.mark.e2e
def test_the_units_commands_start_the_real_servers(tmp_path):
    need_model()
    actions_unit, rasa_unit = unit("shanqu26-actions.service"), unit("shanqu26-rasa.service")
    for u in (actions_unit, rasa_unit):
        assert u["Service"]["WorkingDirectory"] == "/srv/shanqu26"
    rasa_port, actions_port = free_port(), free_port()
    env = base_env(
        RASA_PORT=str(rasa_port), ACTIONS_PORT=str(actions_port), VAR_DIR=str(tmp_path),
        TRACKER_DB_URL=f"sqlite:///{tmp_path}/tracker.db",
        ACTION_ENDPOINT_URL=f"http://127.0.0.1:{actions_port}/webhook",
        RASA_MODEL=str(current_model()), SANIC_WORKERS="1",
    )
    env["PATH"] = f"{Path(os.sys.executable).parent}:{env.get('PATH', '')}"
    pre = run_exec(rasa_unit["Service"]["ExecStartPre"], env)
    assert pre.wait(timeout=300) == 0

    # A stale ticket of a "previous run" is removed before Rasa starts.
    stale = tmp_path / "tracker.locks.db"
    stale.write_bytes(b"left over")
    procs = [run_exec(actions_unit["Service"]["ExecStart"], env,
                      stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT),
             run_exec(rasa_unit["Service"]["ExecStart"], env,
                      stdout=open(tmp_path / "rasa.log", "wb"), stderr=subprocess.STDOUT)]
    try:
        wait_http(f"http://127.0.0.1:{actions_port}/health", procs, 120)
        wait_http(f"http://127.0.0.1:{rasa_port}/", procs, 300)
        r = post(f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook", new_sender("unit"),
                 "开化县是山区县吗")
        assert any(c.get("county", {}).get("name") == "开化县" for c in customs(r.json()))
        assert stale.read_bytes() != b"left over"
        health = requests.get(f"http://127.0.0.1:{rasa_port}/webhooks/health/", timeout=30)
        assert health.status_code == 200, health.text
    finally:
        for p in procs:  # as systemd stops a unit: SIGTERM to its processes
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    # `exec` all the way down: the unit's main process is the server itself, stopped by SIGTERM.
    assert all(p.returncode in (0, -signal.SIGTERM) for p in procs), [p.returncode for p in procs]
