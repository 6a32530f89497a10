"""Keeps the action server and the Rasa server running under `make run` (scripts/serve.sh).

    python -m bot.supervisor --model models/model-<hash>.tar.gz [--logs var/logs]
    python -m bot.supervisor --only rasa      # one server in the foreground, no supervision (systemd)

Both servers are started from the settings (bot/settings.py: ports, hosts, API token, extra
arguments; the Rasa server through its entry point, bot/entry.py), each in its own process group, its output appended to ``<logs>/<name>.log``. When
one exits or stops answering its health check, only that one is restarted, after a back-off
that doubles from `SUPERVISE_BACKOFF_S` up to `SUPERVISE_BACKOFF_MAX_S` and starts again from
the beginning once a server has stayed up for `SUPERVISE_STABLE_S`. The other keeps running:
while the action server is away, Rasa answers every question with the documented apology
(docs/operations.md, "Faults"); while Rasa is away, nothing is lost that was already stored.

Before each start of Rasa, the lock and channel-state files of the previous run are removed
(`bot.shared_state.remove_stale_server_files`): their tickets belonged to processes that are
gone, and would hold the conversations they locked until the tickets expire.

Ctrl-C or SIGTERM stops both (SIGTERM to each process group, SIGKILL after `--stop-timeout`).
In production, systemd does the supervising (deploy/systemd/): each unit runs ``--only NAME``.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from bot.settings import Settings, SettingError

ROOT = Path(__file__).resolve().parent.parent
def commands(model: str, env: Dict[str, str], python: str = sys.executable
             ) -> Dict[str, "Server"]:
    """The two servers as the settings configure them (both on loopback by default)."""
    try:
        settings = Settings.from_env(env)
    except SettingError as e:
        raise SystemExit(f"supervisor: {e}")
    env = settings.child_env(env)
    actions_env = dict(env, SANIC_HOST=settings.actions_host)
    actions = Server(
        "actions",
        [python, "-m", "rasa_sdk", "--actions", "actions", "--port", str(settings.actions_port)],
        f"http://{settings.actions_host}:{settings.actions_port}/health",
        actions_env,
    )
    # The entry point reads the settings, applies the patches and runs `rasa run` with the
    # address, port, API and RASA_EXTRA_ARGS of the settings.
    rasa = Server(
        "rasa",
        [python, "-m", "bot.entry", "--model", model],
        f"http://{settings.rasa_host}:{settings.rasa_port}/",
        env, before_start=_remove_stale_state,
    )
    return {"actions": actions, "rasa": rasa}


def _remove_stale_state(env: Dict[str, str]) -> None:
    from bot import shared_state

    shared_state.remove_stale_server_files(env)


def answers(url: str, timeout: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status == 200
    except Exception:
        return False


@dataclass
class Server:
    name: str
    argv: List[str]
    health: str
    env: Dict[str, str]
    before_start: Optional[Callable[[Dict[str, str]], None]] = None
    proc: Optional[subprocess.Popen] = None
    started_at: float = 0.0
    ready: bool = False
    restarts: int = 0
    failed_probes: int = 0
    next_start: float = 0.0
    backoff: float = 0.0
    log: Optional[Path] = None
    history: List[str] = field(default_factory=list)

    def start(self) -> None:
        if self.before_start:
            self.before_start(self.env)
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            if self.log:
                out.close()
        self.started_at = time.monotonic()
        self.ready = False
        self.failed_probes = 0

    def stop(self, timeout: float) -> Optional[int]:
        """SIGTERM to the whole process group (Sanic's workers too), SIGKILL after `timeout`."""
        proc = self.proc
        if proc is None:
            return None
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
            if not _group_alive(proc.pid):
                break
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                proc.poll()  # reaps the main process, so that the group can empty
                if not _group_alive(proc.pid):
                    break
                time.sleep(0.1)
        proc.poll()
        return proc.returncode


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


class Supervisor:
    """Starts the servers, restarts the one that exits or hangs, stops all on a signal."""

    def __init__(self, servers: Sequence[Server], logs: Optional[Path] = None,
                 env: Optional[Dict[str, str]] = None, say: Callable[[str], None] = print) -> None:
        try:
            settings = Settings.from_env(env, check=False)
        except SettingError as e:
            raise SystemExit(f"supervisor: {e}")
        self.servers = list(servers)
        self.first_backoff = settings.supervise_backoff_s
        self.max_backoff = settings.supervise_backoff_max_s
        self.stable_s = settings.supervise_stable_s
        # A server that has answered once and then stops answering for this long is restarted
        # (0: only restart on exit). Rasa's health check is answered between turns, so a busy
        # server still answers it.
        self.hang_s = settings.supervise_hang_s
        self.probe_every = settings.supervise_probe_s
        self.start_timeout = settings.supervise_start_timeout_s
        self.stop_timeout = 15.0
        self.say = say
        self._stopping = False
        self._last_probe = 0.0
        if logs:
            logs.mkdir(parents=True, exist_ok=True)
            for s in self.servers:
                s.log = logs / f"{s.name}.log"

    def _log(self, s: Server, line: str) -> None:
        """To the terminal and to the server's own log, where its crash is."""
        self.say(f"supervisor: {s.name}: {line}")
        if s.log:
            with open(s.log, "a", encoding="utf-8") as f:
                f.write(time.strftime("%Y-%m-%d %H:%M:%S ") + f"supervisor: {line}\n")

    def request_stop(self, *_args) -> None:
        self._stopping = True

    def start_all(self) -> None:
        for s in self.servers:
            s.backoff = self.first_backoff
            s.start()

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._stopping:
            self.step()
            if all(s.ready for s in self.servers):
                return True
            time.sleep(0.3)
        return all(s.ready for s in self.servers)

    def step(self) -> None:
        """One round: notice exits, probe health, restart what is due."""
        now = time.monotonic()
        probe = now - self._last_probe >= self.probe_every
        if probe:
            self._last_probe = now
        for s in self.servers:
            if s.proc is None:
                if now >= s.next_start:
                    self._log(s, f"starting again (restart {s.restarts})")
                    s.start()
                continue
            code = s.proc.poll()
            if code is not None:
                self._restart_later(s, f"exited with code {code}")
                continue
            if not s.ready:
                if answers(s.health, timeout=2.0):
                    s.ready = True
                    if s.restarts:
                        self._log(s, "answering again")
                elif now - s.started_at > self.start_timeout:
                    self._restart_later(s, f"not answering {self.start_timeout:.0f} s after start")
                continue
            if now - s.started_at >= self.stable_s:
                s.backoff = self.first_backoff
            if probe and self.hang_s > 0:
                if answers(s.health, timeout=min(5.0, self.probe_every)):
                    s.failed_probes = 0
                else:
                    s.failed_probes += 1
                    if s.failed_probes * self.probe_every >= self.hang_s:
                        self._restart_later(s, f"health check unanswered for {self.hang_s:.0f} s")

    def _restart_later(self, s: Server, why: str) -> None:
        s.stop(self.stop_timeout)
        s.proc = None
        s.restarts += 1
        delay = s.backoff or self.first_backoff
        s.next_start = time.monotonic() + delay
        s.backoff = min(self.max_backoff, delay * 2)
        s.history.append(why)
        self._log(s, f"{why}; restarting in {delay:.0f} s (see {s.log or 'its log'})")

    def run(self) -> int:
        while not self._stopping:
            self.step()
            time.sleep(0.3)
        return 0

    def stop_all(self) -> None:
        for s in reversed(self.servers):
            s.stop(self.stop_timeout)
            s.proc = None


BANNER = """
  {document} 政策问答助手 is running.
    Web widget demo page:  http://{host}:{port}/webhooks/widget/demo
    REST channel:          POST http://{host}:{port}/webhooks/rest/webhook
                           {{"sender": "me", "message": "创业担保贷款有什么优惠"}}
    WeChat webhook:        http://{host}:{port}/webhooks/wechat/webhook{wechat}
    Health:                http://{host}:{port}/webhooks/health/
    Logs:                  {logs}/
  A server that exits is restarted. Press Ctrl-C to stop.
"""


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="model archive (default: RASA_MODEL, else the model trained "
                                     "from this checkout)")
    ap.add_argument("--logs", type=Path, default=None, help="log directory (default: $VAR_DIR/logs)")
    ap.add_argument("--only", choices=["actions", "rasa"],
                    help="run this one server in the foreground, unsupervised (for systemd)")
    args = ap.parse_args(argv)
    env = dict(os.environ)
    if not args.model and args.only != "actions":
        from bot.launcher import current_model

        args.model = str(current_model())
    servers = commands(args.model or "", env)

    if args.only:
        server = servers[args.only]
        if server.before_start:
            server.before_start(server.env)
        os.chdir(ROOT)
        os.execvpe(server.argv[0], server.argv, server.env)

    logs = args.logs or Path(Settings.from_env(env, check=False).var_dir) / "logs"
    sup = Supervisor([servers["actions"], servers["rasa"]], logs=logs, env=env)
    signal.signal(signal.SIGINT, sup.request_stop)
    signal.signal(signal.SIGTERM, sup.request_stop)
    try:
        sup.start_all()
        if not sup.wait_ready(sup.start_timeout):
            if sup._stopping:
                return 0
            print(f"The assistant did not start; see {logs}/", file=sys.stderr)
            for s in sup.servers:
                if not s.ready and s.log and s.log.exists():
                    tail = s.log.read_text(errors="replace").splitlines()[-30:]
                    print("\n".join(tail), file=sys.stderr)
            return 1
        settings = Settings.from_env(env)
        from policy_kb import get_kb

        print(BANNER.format(document=get_kb().document.number, host=settings.rasa_host, port=settings.rasa_port,
                            wechat=" (configured)" if settings.wechat_token else "", logs=logs),
              flush=True)
        return sup.run()
    finally:
        sup.stop_all()
        print("\nAssistant stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
