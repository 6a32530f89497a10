"""Throwaway PostgreSQL, Redis and nginx on loopback, for the scale-out tests and the soak script.

Each service runs from the Debian packages' binaries (scripts/install_system_deps.sh) in its own
temporary directory, on a free 127.0.0.1 port, in the foreground of a child process that is
stopped, together with its directory, when the context manager exits. Nothing is read from or
written to the system services' configuration or data.

PostgreSQL refuses to run as root: when the tests run as root (CI), initdb and postgres run as
the `postgres` user the Debian package creates (or `nobody`), through subprocess's `user=`.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

from bot.launcher import free_port

LOOPBACK = "127.0.0.1"


def in_processes(target: Callable[..., None], args: Sequence[Any], n: int, timeout: float) -> List[Any]:
    """Runs ``target(*args, queue)`` in ``n`` fresh processes at once (spawned, so nothing is
    inherited but the arguments) and returns what each put on the queue."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, out)) for _ in range(n)]
    for p in procs:
        p.start()
    results = [out.get(timeout=timeout) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    return results


# --- finding the binaries ------------------------------------------------------------------------

def _which(name: str, extra: Sequence[str] = ()) -> Optional[str]:
    found = shutil.which(name)
    if found:
        return found
    for candidate in extra:
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def postgres_bin_dir() -> Optional[Path]:
    """The directory holding initdb and postgres (Debian: /usr/lib/postgresql/<major>/bin)."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("postgres"):
        return Path(os.path.realpath(initdb)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                      key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    return Path(versions[-1]).parent if versions else None


def redis_server_bin() -> Optional[str]:
    return _which("redis-server", ["/usr/bin/redis-server", "/usr/local/bin/redis-server"])


def nginx_bin() -> Optional[str]:
    return _which("nginx", ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"])


def missing_binaries() -> List[str]:
    missing = []
    if postgres_bin_dir() is None:
        missing.append("postgresql (initdb, postgres)")
    if redis_server_bin() is None:
        missing.append("redis-server")
    if nginx_bin() is None:
        missing.append("nginx")
    return missing


# --- process handling ----------------------------------------------------------------------------

def _stop(proc: Optional[subprocess.Popen], sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    """Stops a child started with start_new_session=True, and everything in its process group."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=timeout)
    except (ProcessLookupError, PermissionError):
        pass
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def _wait_until(check, proc: subprocess.Popen, what: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s:\n{_tail(log)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _tcp_open(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((LOOPBACK, port)) == 0


# --- PostgreSQL ----------------------------------------------------------------------------------

class Postgres:
    """A PostgreSQL cluster in a temporary directory: superuser and database `rasa`, trust auth
    on 127.0.0.1 only, Unix socket in the same directory, durability off (it is thrown away)."""

    user = "rasa"
    database = "rasa"

    def __init__(self, port: Optional[int] = None) -> None:
        self.port = port or free_port()
        self.bin = postgres_bin_dir()
        if self.bin is None:
            raise FileNotFoundError("PostgreSQL binaries not found: run scripts/install_system_deps.sh")
        self.dir = Path(tempfile.mkdtemp(prefix="shanqu26-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.proc: Optional[subprocess.Popen] = None
        self._run_as: Dict[str, object] = {}
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                account = pwd.getpwnam("nobody")
            self._run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
            os.chown(self.dir, account.pw_uid, account.pw_gid)
        os.chmod(self.dir, 0o700)

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@{LOOPBACK}:{self.port}/{self.database}"

    def start(self, timeout: float = 60) -> "Postgres":
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        subprocess.run(
            [str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust",
             "-E", "UTF8", "--no-sync", "--no-instructions"],
            cwd=self.dir, env=env, check=True, capture_output=True, timeout=120, **self._run_as,
        )
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
             "-k", str(self.dir), "-c", f"listen_addresses={LOOPBACK}",
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=200"],
            cwd=self.dir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            **self._run_as,
        )
        out.close()
        _wait_until(self._accepting, self.proc, "postgres", self.log, timeout)
        self._create_database()
        return self

    def _connect(self, database: str):
        import psycopg2

        return psycopg2.connect(host=LOOPBACK, port=self.port, user=self.user, dbname=database,
                                connect_timeout=3)

    def _accepting(self) -> bool:
        self._connect("postgres").close()
        return True

    def _create_database(self) -> None:
        conn = self._connect("postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            conn.close()

    def query(self, sql: str, params: Sequence = ()) -> list:
        conn = self._connect(self.database)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            conn.close()

    def stop(self) -> None:
        # SIGINT: PostgreSQL's "fast" shutdown (disconnect clients, no waiting for sessions).
        _stop(self.proc, signal.SIGINT)
        shutil.rmtree(self.dir, ignore_errors=True)


# --- Redis ---------------------------------------------------------------------------------------

class Redis:
    """redis-server on 127.0.0.1 with persistence off, its working directory in a temporary dir."""

    def __init__(self, port: Optional[int] = None) -> None:
        self.port = port or free_port()
        self.bin = redis_server_bin()
        if self.bin is None:
            raise FileNotFoundError("redis-server not found: run scripts/install_system_deps.sh")
        self.dir = Path(tempfile.mkdtemp(prefix="shanqu26-redis-"))
        self.log = self.dir / "redis.log"
        self.proc: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 30) -> "Redis":
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [self.bin, "--port", str(self.port), "--bind", LOOPBACK, "--save", "",
             "--appendonly", "no", "--dir", str(self.dir), "--daemonize", "no",
             "--protected-mode", "yes"],
            cwd=self.dir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        out.close()
        _wait_until(lambda: self.client().ping(), self.proc, "redis-server", self.log, timeout)
        return self

    def client(self, db: int = 0):
        import redis

        return redis.Redis(host=LOOPBACK, port=self.port, db=db, socket_timeout=3)

    def commands(self) -> Dict[str, int]:
        """Calls per command since start (INFO commandstats), e.g. {"set": 12, "del": 12}."""
        stats = self.client().info("commandstats")
        return {k.replace("cmdstat_", ""): int(v["calls"]) for k, v in stats.items()}

    def stop(self) -> None:
        _stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


# --- nginx ---------------------------------------------------------------------------------------

DEPLOY_NGINX_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"


def loopback_nginx_conf(template: str, directory: Path, port: int, upstream_ports: Sequence[int]) -> str:
    """deploy/nginx.conf made to run here: `server rasa-N:5005` becomes the N-th loopback port,
    `listen 80` a loopback port, and pid, logs and temporary files go into `directory`.
    Everything else (upstreams, routing, proxy settings) is tested as it is deployed."""
    import re

    conf = template
    replacements = [
        (r"^worker_processes\s+\S+;", "worker_processes 1;"),
        (r"^error_log\s+\S+", f"error_log {directory}/error.log"),
        (r"^pid\s+\S+;", f"pid {directory}/nginx.pid;"),
        (r"access_log\s+/\S+", f"access_log {directory}/access.log"),
        (r"listen\s+80;", f"listen {LOOPBACK}:{port};"),
        (r"^http \{", "http {\n" + "".join(
            f"    {kind}_temp_path {directory}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))),
    ]
    for pattern, replacement in replacements:
        conf, n = re.subn(pattern, replacement, conf, flags=re.M)
        if n == 0:
            raise ValueError(f"deploy/nginx.conf no longer has {pattern!r}")

    def upstream(m: "re.Match") -> str:
        i = int(m.group(1)) - 1
        if i >= len(upstream_ports):
            raise ValueError(f"deploy/nginx.conf names rasa-{i + 1}, only {len(upstream_ports)} servers run")
        return f"server {LOOPBACK}:{upstream_ports[i]}"

    conf, n = re.subn(r"server rasa-(\d+):5005", upstream, conf)
    if n == 0:
        raise ValueError("deploy/nginx.conf has no `server rasa-N:5005` lines")
    # As root, the master drops its workers to an unprivileged user; otherwise nginx would warn
    # about (and ignore) the `user` directive.
    if os.geteuid() == 0 and _has_group("nogroup"):
        conf = "user nobody nogroup;\n" + conf
    return conf


class Nginx:
    """nginx with the production configuration (deploy/nginx.conf), its upstreams the given
    loopback ports (rasa-1, rasa-2, ...), listening on a free loopback port."""

    def __init__(self, upstream_ports: Sequence[int], port: Optional[int] = None,
                 template: Path = DEPLOY_NGINX_CONF) -> None:
        self.port = port or free_port()
        self.bin = nginx_bin()
        if self.bin is None:
            raise FileNotFoundError("nginx not found: run scripts/install_system_deps.sh")
        self.upstream_ports = list(upstream_ports)
        self.template = template
        self.dir = Path(tempfile.mkdtemp(prefix="shanqu26-nginx-"))
        os.chmod(self.dir, 0o755)
        self.conf = self.dir / "nginx.conf"
        self.access_log = self.dir / "access.log"
        self.log = self.dir / "error.log"
        self.proc: Optional[subprocess.Popen] = None

    @property
    def base(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def rest(self) -> str:
        return f"{self.base}/webhooks/rest/webhook"

    def start(self, timeout: float = 30) -> "Nginx":
        self.conf.write_text(loopback_nginx_conf(self.template.read_text(), self.dir, self.port,
                                                 self.upstream_ports))
        cmd = [self.bin, "-p", str(self.dir), "-e", str(self.log), "-c", str(self.conf)]
        check = subprocess.run([*cmd, "-t"], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise RuntimeError(f"nginx configuration rejected:\n{check.stderr}")
        self.proc = subprocess.Popen([*cmd, "-g", "daemon off;"], cwd=self.dir,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        _wait_until(lambda: _tcp_open(self.port), self.proc, "nginx", self.log, timeout)
        return self

    def upstreams_used(self, at_least: int = 0, timeout: float = 5.0) -> List[str]:
        """The upstream address of each request so far, in order (from the access log). nginx
        writes a request's line after its response has gone, so a test that has just had its
        answer waits up to `timeout` for `at_least` lines."""
        import re

        deadline = time.monotonic() + timeout
        while True:
            text = self.access_log.read_text(errors="replace") if self.access_log.exists() else ""
            used = re.findall(r'upstream="([^"]*)"', text)
            if len(used) >= at_least or time.monotonic() > deadline:
                return used
            time.sleep(0.05)

    def stop(self) -> None:
        # SIGQUIT: graceful shutdown of master and workers.
        _stop(self.proc, signal.SIGQUIT)
        shutil.rmtree(self.dir, ignore_errors=True)


def _has_group(name: str) -> bool:
    import grp

    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


# --- context managers ----------------------------------------------------------------------------

@contextmanager
def running(*services) -> Iterator[tuple]:
    """Starts the services in order, yields them, and stops all of them (reverse order) and
    removes their directories on exit, also when one of them fails to start."""
    try:
        for service in services:
            service.start()
        yield services
    finally:
        for service in reversed(services):
            try:
                service.stop()
            except Exception:
                pass


def in_parallel(calls: Sequence[Callable[[], Any]]) -> None:
    """Runs the calls at once (starting a Rasa server is mostly loading its model; stopping one
    waits for it to exit) and re-raises the first failure."""
    import threading

    errors: List[BaseException] = []

    def run(call) -> None:
        try:
            call()
        except BaseException as e:  # noqa: BLE001 - re-raised below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


@dataclass
class Cluster:
    """The production profile on loopback: two Rasa servers on one PostgreSQL tracker store and
    one Redis lock store, one action server, and (when asked for) nginx in front."""

    pg: Postgres
    redis: Redis
    actions: Any  # bot.launcher.ActionServer
    a: Any  # bot.launcher.RasaServer
    b: Any
    nginx: Optional[Nginx]


@contextmanager
def cluster(logs: Path, env: Optional[Dict[str, str]] = None, nginx: bool = True) -> Iterator[Cluster]:
    """Starts a `Cluster` (``env`` added to both Rasa servers' environment), logs in ``logs``,
    and stops all of it on exit."""
    from contextlib import ExitStack

    from bot.launcher import ActionServer, RasaServer

    logs.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        pg, redis = Postgres(), Redis()
        stack.enter_context(running(pg, redis))
        actions = ActionServer(log=logs / "actions.log")
        stack.callback(actions.stop)
        shared = {"LOCK_STORE_TYPE": "bot.locks.RedisLockStore", "REDIS_HOST": LOOPBACK,
                  "REDIS_PORT": str(redis.port), "REDIS_PASSWORD": "", "REDIS_DB": "1",
                  **(env or {})}
        a = RasaServer(actions.url, tracker_db=pg.url, env=shared, log=logs / "rasa-a.log")
        b = RasaServer(actions.url, tracker_db=pg.url, env=shared, log=logs / "rasa-b.log")
        stack.callback(in_parallel, [a.cleanup, b.cleanup])
        actions.start()
        in_parallel([a.start, b.start])
        front = None
        if nginx:
            front = Nginx([a.port, b.port])
            stack.enter_context(running(front))
        yield Cluster(pg, redis, actions, a, b, front)
