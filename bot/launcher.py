"""Starts the real action server and Rasa server as child processes on loopback.

Used by the end-to-end tests, `make eval`, `make bench` and `make shell`, so that all of them
exercise exactly what `make run` starts.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

from bot import shared_state
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def current_model(in_process: bool = False) -> Path:
    """The model trained from this checkout (or the one RASA_MODEL names).

    Finding it writes build/ from the knowledge base (scripts/train.py, whose hash covers it).
    By default that runs in a child process, leaving this one as it was; ``in_process`` runs it
    here, for a process that loads the knowledge base and jieba anyway (the staff shell), which
    then reuses them instead of building them a second time in another interpreter."""
    named = Settings.from_env(check=False, lenient=True).rasa_model
    if named:
        return Path(named).resolve()
    if in_process:
        import importlib.util

        spec = importlib.util.spec_from_file_location("shanqu26_train", ROOT / "scripts" / "train.py")
        train = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(train)
        out = os.path.relpath(train.model_path(), ROOT)
    else:
        out = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "train.py"), "--print-path"],
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout.strip()
    path = ROOT / out
    if not path.exists():
        raise FileNotFoundError(f"no trained model at {out}: run 'make train'")
    return path


def base_env(**overrides: str) -> Dict[str, str]:
    """This process's environment with ``overrides``, every setting filled in from its one
    default (bot/settings.py) and the process settings both servers need."""
    env = dict(os.environ, **overrides)
    return Settings.from_env(env, check=False).child_env(env, PYTHONPATH=str(ROOT))


def api_args(env: Dict[str, str]) -> List[str]:
    """Rasa's HTTP API (conversations, model) stays off unless RASA_ENABLE_API is on, and then
    only with a token (RASA_API_TOKEN): requests without ``?token=`` get 401. A SettingError
    (a ValueError) names what is wrong."""
    return Settings.from_env(env).api_args()


def wait_http(url: str, procs: List[subprocess.Popen], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise RuntimeError(f"a server exited with {p.returncode} before {url} was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.3)
    raise TimeoutError(f"{url} not ready after {timeout:.0f} s")


class ActionServer:
    def __init__(self, port: Optional[int] = None, env: Optional[Dict[str, str]] = None,
                 log: Optional[Path] = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhook"
        self.env = base_env(SANIC_HOST="127.0.0.1", **(env or {}))
        self.log = log
        self.proc: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 90) -> "ActionServer":
        return self.spawn().wait(timeout)

    def spawn(self) -> "ActionServer":
        """Starts the process and returns at once (`wait` for it to answer)."""
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def wait(self, timeout: float = 90) -> "ActionServer":
        wait_http(f"http://127.0.0.1:{self.port}/health", [self.proc], timeout)
        return self

    def stop(self) -> None:
        _terminate(self.proc)


class RasaServer:
    def __init__(self, action_url: Optional[str], model: Optional[Path] = None,
                 port: Optional[int] = None, tracker_db: Optional[str] = None,
                 env: Optional[Dict[str, str]] = None, extra_args: Optional[List[str]] = None,
                 log: Optional[Path] = None, stock: bool = False) -> None:
        self.port = port or free_port()
        self.stock = stock  # Rasa's own `rasa run`, no entry point and no patches (the bench's reference)
        self.base = f"http://127.0.0.1:{self.port}"
        self.rest = f"{self.base}/webhooks/rest/webhook"
        self.model = model or current_model()
        # Its own directory for what belongs to this server alone: the SQLite conversation store
        # unless one is given, and the workers' lock and state files (bot/shared_state.py), so
        # that several servers started side by side never share or remove each other's.
        self._tmp = tempfile.TemporaryDirectory(prefix="shanqu26-")
        if tracker_db is None:
            tracker_db = f"sqlite:///{self._tmp.name}/tracker.db"
        self.tracker_db = tracker_db
        self.env = base_env(
            ACTION_ENDPOINT_URL=action_url or "http://127.0.0.1:9/webhook",
            TRACKER_DB_URL=tracker_db,
            LOCK_DB_PATH=f"{self._tmp.name}/locks.db",
            STATE_DB_PATH=f"{self._tmp.name}/state.db",
            **(env or {}),
        )
        self.extra_args = extra_args or []
        self.log = log
        self.proc: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 180) -> "RasaServer":
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        Settings.from_env(self.env)  # a wrong setting is named here, before a process starts
        # The entry point reads the settings, applies the patches and runs `rasa run`.
        cmd = [sys.executable, "-m", "rasa" if self.stock else "bot.entry", *(["run"] if self.stock else []),
               "--model", str(self.model), "-i", "127.0.0.1", "--port", str(self.port), *self.extra_args]
        shared_state.remove_stale_server_files(self.env)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_http(f"{self.base}/", [self.proc], timeout)
        return self

    def stop(self) -> None:
        _terminate(self.proc)

    def cleanup(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()


class Assistant:
    """Both servers, as `make run` starts them: `with Assistant() as a: requests.post(a.rest, ...)`."""

    def __init__(self, model: Optional[Path] = None, tracker_db: Optional[str] = None,
                 env: Optional[Dict[str, str]] = None, log_dir: Optional[Path] = None) -> None:
        log_dir = Path(log_dir) if log_dir else None
        if log_dir:
            log_dir.mkdir(parents=True, exist_ok=True)
        self.actions = ActionServer(env=env, log=log_dir / "actions.log" if log_dir else None)
        self.rasa = RasaServer(self.actions.url, model=model, tracker_db=tracker_db, env=env,
                               log=log_dir / "rasa.log" if log_dir else None)

    @property
    def rest(self) -> str:
        return self.rasa.rest

    @property
    def base(self) -> str:
        return self.rasa.base

    def __enter__(self) -> "Assistant":
        try:
            self.actions.start()
            self.rasa.start()
        except Exception:
            self.close()
            raise
        return self

    def close(self) -> None:
        self.rasa.cleanup()
        self.actions.stop()

    def __exit__(self, *exc) -> None:
        self.close()


def _terminate(proc: Optional[subprocess.Popen], timeout: float = 15) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
