"""Small, short-lived state of the channels, kept right when the Rasa server runs several workers.

The channels remember a few things for a minute or so: how many messages a conversation (or a
browser) sent in the last minute (`limiter`), and which WeChat deliveries and signed URLs were
seen and which answers are ready (`expiring`). With one Rasa process this lives in memory
(`SlidingWindowLimiter`, `LocalTTL`). With several Sanic workers (SANIC_WORKERS > 1) any request
may reach any worker, so the same state is kept in a small SQLite file shared by the workers of
this server (`SharedSlidingWindowLimiter`, `SharedTTL`), with each change one atomic
transaction; each pair has one interface. What the assistant last offered a conversation is
not kept here: it is read from the stored conversation (bot/channels/guard.py). The file belongs to one running server: the start scripts remove it with the lock
file (``remove_stale``); nothing in it matters after a restart.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections import OrderedDict, deque
from pathlib import Path
from typing import Any, Callable, Deque, Dict, Generic, Iterable, Mapping, Optional, TypeVar, Union

from bot.settings import Settings, current_value

MAX_KEYS = 10_000
# Relative data directories are the project's own (var/), wherever the process was started.
_ROOT = Path(__file__).resolve().parent.parent


def sanic_workers() -> int:
    return max(1, int(current_value("sanic_workers")))


def shared_between_workers() -> bool:
    return sanic_workers() > 1


# ------------------------------------------------------------------------------------------------
# In one process


class SlidingWindowLimiter:
    """At most ``per_minute`` events per key in any ``window`` seconds; ``per_minute <= 0`` is
    no limit. Keys idle for longest are forgotten beyond ``max_keys``."""

    def __init__(self, per_minute: int, window: float = 60.0, max_keys: int = MAX_KEYS) -> None:
        self.per_minute = per_minute
        self.window = window
        self.max_keys = max_keys
        self._hits: "OrderedDict[str, Deque[float]]" = OrderedDict()

    def allow(self, key: str, now: Optional[float] = None) -> bool:
        if self.per_minute <= 0:
            return True
        now = time.time() if now is None else now
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
        self._hits.move_to_end(key)
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return False
        hits.append(now)
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)
        return True


V = TypeVar("V")


class LocalTTL(Generic[V]):
    """Expiring keys in this process: `SharedTTL`'s get / set / pop / claim / setdefault, for any
    value. Entries expire ``ttl`` seconds after they were set; beyond ``max_keys`` the oldest go
    first."""

    def __init__(self, ttl: float, max_keys: int = MAX_KEYS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_keys < 1 or ttl <= 0:
            raise ValueError("max_keys and ttl must be positive")
        self.max_keys = max_keys
        self.ttl = ttl
        self._clock = clock
        self._data: "OrderedDict[str, tuple]" = OrderedDict()

    def get(self, key: str) -> Optional[V]:
        item = self._data.get(key)
        if item is None:
            return None
        expires, value = item
        if expires <= self._clock():
            del self._data[key]
            return None
        return value

    def set(self, key: str, value: V) -> None:
        self._data.pop(key, None)
        self._data[key] = (self._clock() + self.ttl, value)
        self._prune()

    def pop(self, key: str) -> Optional[V]:
        item = self._data.pop(key, None)
        return None if item is None or item[0] <= self._clock() else item[1]

    def claim(self, key: str) -> bool:
        """True for the first caller to claim ``key`` within ``ttl`` seconds."""
        if key in self:
            return False
        self.set(key, True)  # type: ignore[arg-type]
        return True

    def setdefault(self, key: str, value: V) -> Optional[V]:
        """The live value kept for ``key``, else None after keeping ``value``."""
        existing = self.get(key)
        if existing is not None:
            return existing
        self.set(key, value)
        return None

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        self._prune()
        return len(self._data)

    def _prune(self) -> None:
        now = self._clock()
        # Entries are in insertion order and share one ttl, so expired ones are at the front.
        while self._data:
            _, (expires, _) = next(iter(self._data.items()))
            if expires > now and len(self._data) <= self.max_keys:
                break
            self._data.popitem(last=False)


# ------------------------------------------------------------------------------------------------
# Between the workers of one server


def server_file(kind: str, env: Optional[Mapping[str, str]] = None) -> Path:
    """Where a server keeps its ``kind`` ("locks" or "state") file: ``<KIND>_DB_PATH``, else beside
    a SQLite tracker database (``tracker.locks.db``), else ``var/<kind>.db``."""
    settings = Settings.from_env(os.environ if env is None else env, check=False, lenient=True)
    explicit = settings.lock_db_path if kind == "locks" else settings.state_db_path
    if explicit:
        return Path(explicit)
    url = settings.tracker_db_url
    if url.startswith("sqlite:///") and not url.endswith(":memory:"):
        tracker = Path(url[len("sqlite:///"):])
        return tracker.with_name(f"{tracker.stem}.{kind}.db")
    return _ROOT / settings.var_dir / f"{kind}.db"


def default_path(env: Optional[Mapping[str, str]] = None) -> Path:
    return server_file("state", env)


def remove_stale(path: Optional[os.PathLike] = None) -> None:
    """Delete a SQLite file (and its write-ahead log) that a stopped server left behind."""
    base = Path(path) if path else default_path()
    for p in (base, base.with_name(base.name + "-wal"), base.with_name(base.name + "-shm")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def remove_stale_server_files(env: Optional[Mapping[str, str]] = None) -> None:
    """The lock and state files belong to one running Rasa server: a new start drops what a
    stopped one left (no ticket or claim of a stopped run may remain)."""
    remove_stale(server_file("locks", env))
    remove_stale(server_file("state", env))


class SQLiteFile:
    """A SQLite file several processes change at once: write-ahead log, one connection per
    thread, and ``transaction(work)``, which takes the write lock before ``work`` reads, so each
    read-change-write is atomic across processes."""

    def __init__(self, path: os.PathLike, schema: Iterable[str] = (), busy_timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        conn = self.conn()
        conn.execute("PRAGMA journal_mode=WAL")
        for statement in schema:
            conn.execute(statement)

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def transaction(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE")  # the write lock is taken before the read
        try:
            result = work(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result


class SharedState:
    """Expiring keys and sliding windows in one SQLite file, safe across processes."""

    _instances: Dict[str, "SharedState"] = {}
    _instances_lock = threading.Lock()

    @classmethod
    def default(cls) -> "SharedState":
        path = str(default_path())
        with cls._instances_lock:
            if path not in cls._instances:
                cls._instances[path] = cls(path)
            return cls._instances[path]

    def __init__(self, path: os.PathLike, busy_timeout_s: float = 10.0) -> None:
        self.file = SQLiteFile(path, (
            "CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT, expires REAL NOT NULL)",
            "CREATE TABLE IF NOT EXISTS hits (k TEXT NOT NULL, t REAL NOT NULL)",
            "CREATE INDEX IF NOT EXISTS hits_k ON hits (k, t)",
        ), busy_timeout_s)
        self.path = self.file.path
        self._writes = 0

    def _conn(self) -> sqlite3.Connection:
        return self.file.conn()

    def _transaction(self, work):
        result = self.file.transaction(work)
        self._writes += 1
        if self._writes % 500 == 0:
            self.prune()
        return result

    def prune(self, now: Optional[float] = None, keep_hits_s: float = 3600.0) -> None:
        now = time.time() if now is None else now
        conn = self._conn()
        conn.execute("DELETE FROM kv WHERE expires <= ?", (now,))
        conn.execute("DELETE FROM hits WHERE t <= ?", (now - keep_hits_s,))

    # -- expiring keys ---------------------------------------------------------------------------

    def claim(self, key: str, ttl: float, now: Optional[float] = None) -> bool:
        """True for the first caller (in any process) to claim ``key`` within ``ttl`` seconds."""
        now = time.time() if now is None else now

        def work(conn):
            row = conn.execute("SELECT expires FROM kv WHERE k = ?", (key,)).fetchone()
            if row and row[0] > now:
                return False
            conn.execute("INSERT OR REPLACE INTO kv (k, v, expires) VALUES (?, NULL, ?)", (key, now + ttl))
            return True

        return self._transaction(work)

    def put(self, key: str, value: Any, ttl: float, now: Optional[float] = None) -> None:
        now = time.time() if now is None else now
        data = json.dumps(value, ensure_ascii=False)
        self._transaction(lambda conn: conn.execute(
            "INSERT OR REPLACE INTO kv (k, v, expires) VALUES (?, ?, ?)", (key, data, now + ttl)))

    def setdefault(self, key: str, value: Any, ttl: float, now: Optional[float] = None) -> Any:
        """Stores ``value`` unless ``key`` holds a live value already, in one transaction; returns
        the value that was there before (None when ``value`` was stored)."""
        now = time.time() if now is None else now
        data = json.dumps(value, ensure_ascii=False)

        def work(conn):
            row = conn.execute("SELECT v, expires FROM kv WHERE k = ?", (key,)).fetchone()
            if row and row[1] > now and row[0] is not None:
                return json.loads(row[0])
            conn.execute("INSERT OR REPLACE INTO kv (k, v, expires) VALUES (?, ?, ?)",
                         (key, data, now + ttl))
            return None

        return self._transaction(work)

    def get(self, key: str, now: Optional[float] = None) -> Any:
        now = time.time() if now is None else now
        row = self._conn().execute("SELECT v, expires FROM kv WHERE k = ?", (key,)).fetchone()
        if not row or row[1] <= now or row[0] is None:
            return None
        return json.loads(row[0])

    def delete(self, key: str) -> None:
        self._transaction(lambda conn: conn.execute("DELETE FROM kv WHERE k = ?", (key,)))

    # -- sliding windows -------------------------------------------------------------------------

    def hit(self, key: str, limit: int, window: float, now: Optional[float] = None) -> bool:
        """Counts one event for ``key`` unless ``limit`` were counted in the last ``window`` s."""
        now = time.time() if now is None else now

        def work(conn):
            conn.execute("DELETE FROM hits WHERE k = ? AND t <= ?", (key, now - window))
            (n,) = conn.execute("SELECT COUNT(*) FROM hits WHERE k = ?", (key,)).fetchone()
            if n >= limit:
                return False
            conn.execute("INSERT INTO hits (k, t) VALUES (?, ?)", (key, now))
            return True

        return self._transaction(work)


class _OnSharedState:
    """Uses the server's SharedState, opened on first use (after the workers were forked)."""

    _state: Optional[SharedState] = None

    @property
    def state(self) -> SharedState:
        if self._state is None:
            self._state = SharedState.default()
        return self._state


class SharedSlidingWindowLimiter(_OnSharedState):
    """SlidingWindowLimiter's behaviour, counted across the workers of the server."""

    def __init__(self, per_minute: int, window: float = 60.0, state: Optional[SharedState] = None,
                 namespace: str = "limit") -> None:
        self.per_minute = per_minute
        self.window = window
        self.namespace = namespace
        self._state = state

    def allow(self, key: str, now: Optional[float] = None) -> bool:
        if self.per_minute <= 0:
            return True
        return self.state.hit(f"{self.namespace}:{key}", self.per_minute, self.window, now)


def limiter(per_minute: int, window: float = 60.0, namespace: str = "limit"):
    """The limiter for this server: shared between workers when there are several."""
    if shared_between_workers():
        return SharedSlidingWindowLimiter(per_minute, window, namespace=namespace)
    return SlidingWindowLimiter(per_minute, window)


class SharedTTL(_OnSharedState):
    """`LocalTTL`'s get / set / pop / claim / setdefault for JSON values, shared between the
    workers of the server."""

    def __init__(self, namespace: str, ttl: float, state: Optional[SharedState] = None) -> None:
        self.namespace = namespace
        self.ttl = ttl
        self._state = state

    def get(self, key: str) -> Any:
        return self.state.get(f"{self.namespace}:{key}")

    def set(self, key: str, value: Any) -> None:
        self.state.put(f"{self.namespace}:{key}", value, self.ttl)

    def pop(self, key: str) -> Any:
        value = self.get(key)
        self.state.delete(f"{self.namespace}:{key}")
        return value

    def claim(self, key: str) -> bool:
        return self.state.claim(f"{self.namespace}:{key}", self.ttl)

    def setdefault(self, key: str, value: Any) -> Any:
        """The value already kept for ``key`` (in any worker), else None after keeping ``value``."""
        return self.state.setdefault(f"{self.namespace}:{key}", value, self.ttl)


def expiring(namespace: str, ttl: float, max_keys: int = MAX_KEYS) -> Union[LocalTTL, SharedTTL]:
    """Expiring keys for this server: shared between workers when there are several (values
    then must be JSON)."""
    if shared_between_workers():
        return SharedTTL(namespace, ttl)
    return LocalTTL(ttl, max_keys)


if __name__ == "__main__":  # python -m bot.shared_state --remove-stale (scripts/serve.sh)
    import sys

    if sys.argv[1:] == ["--remove-stale"]:
        remove_stale_server_files()
    else:
        sys.exit("usage: python -m bot.shared_state --remove-stale")
