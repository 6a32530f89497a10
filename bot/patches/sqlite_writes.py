"""Writers to one SQLite file take turns in a queue instead of SQLite's sleeping retries.

SQLite lets one connection write at a time. A connection that finds the file being written waits
in SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25 ... ms between attempts. Under
load, with two Rasa workers and several store threads in each writing every turn to the same
conversation store, a writer that arrives 1 ms after another sleeps far longer than the other
one writes: at 20 users the Rasa server stayed at one of its two cores, waiting.

Here a transaction's first write (INSERT, UPDATE, DELETE, REPLACE) first takes the file's write
turn: a lock of this process (one writer thread at a time) and an advisory lock on a file beside
the database (``<database>-writer.lock``, one process at a time), polled every half millisecond.
The turn is given back when SQLite has ended the transaction (commit or rollback, or the
connection going back to its pool). SQLite's own locking is unchanged underneath: a writer that cannot have its
turn within ``WAIT_S`` (a transaction left open elsewhere, a program without this patch) goes on
without it, as before. Reads never wait. PostgreSQL is not affected.

Adds a ``before_cursor_execute`` listener to ``sqlalchemy.engine.Engine`` and ``checkin`` and
``close`` listeners to ``sqlalchemy.pool.Pool`` (every engine), and wraps
``sqlalchemy.dialects.sqlite.base.SQLiteDialect.do_commit`` and ``do_rollback`` (SQLAlchemy 1.4).
"""
from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
import time
from typing import Any, Dict, Optional, Tuple

from bot import patches

WRITTEN_FOR = {"sqlalchemy": "1.4"}
WAIT_S = 1.0  # then the writer goes on without its turn (SQLite's own locking still applies)
POLL_S = 0.0005

logger = logging.getLogger(__name__)
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_turns_lock = threading.Lock()
_turns: Dict[Tuple[int, str], "WriteTurn"] = {}


class WriteTurn:
    """The write turn of one SQLite file in this process."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.thread_lock = threading.Lock()
        self.fd = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
        self.holder: Optional[int] = None  # the thread holding the turn
        self.waits = 0  # writes that had to wait (tests)
        self.gave_up = 0  # writes that went on without their turn

    def take(self, deadline: float) -> bool:
        if not self.thread_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return False
        waited = False
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self.thread_lock.release()
                    return False
                waited = True
                time.sleep(POLL_S)
        self.waits += waited
        self.holder = threading.get_ident()
        return True

    def give_back(self) -> None:
        self.holder = None
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.thread_lock.release()


def turn_for(path: str) -> WriteTurn:
    """One turn per database file and process (a forked worker makes its own)."""
    key = (os.getpid(), path)
    turn = _turns.get(key)
    if turn is None:
        with _turns_lock:
            real = (key[0], os.path.realpath(path))
            turn = _turns.get(real)
            if turn is None:
                turn = _turns[real] = WriteTurn(real[1])
            _turns[key] = turn
    return turn


def _sqlite_file(conn: Any) -> Optional[str]:
    engine = conn.engine
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def _dbapi(connection: Any) -> Any:
    """The sqlite3 connection behind a SQLAlchemy pool's wrapper (or itself)."""
    return getattr(connection, "dbapi_connection", connection)


def _before_cursor_execute(conn, cursor, statement, parameters, context, executemany) -> None:
    if not _WRITE.match(statement):
        return
    path = _sqlite_file(conn)
    if path is None:
        return
    dbapi = _dbapi(conn.connection)
    if id(dbapi) in _held:
        return  # this transaction has its turn
    turn = turn_for(path)
    if turn.holder == threading.get_ident():
        return  # this thread writes through another connection in its turn: SQLite decides
    if turn.take(time.monotonic() + WAIT_S):
        _held[id(dbapi)] = turn
    else:
        turn.gave_up += 1
        logger.warning("SQLite %s: no write turn within %.0f s; writing without it", path, WAIT_S)


def _end(dbapi: Any) -> None:
    turn = _held.pop(id(dbapi), None)
    if turn is not None:
        turn.give_back()


def _on_pool_event(dbapi_connection, *rest) -> None:
    _end(dbapi_connection)  # a connection back in its pool, or closed, holds no turn


_held: Dict[int, WriteTurn] = {}  # id(sqlite3 connection) -> the turn its transaction holds
STOCK: Dict[str, Any] = {}
LISTENERS = (("engine", "before_cursor_execute", _before_cursor_execute),
             ("pool", "checkin", _on_pool_event), ("pool", "close", _on_pool_event))


def apply(settings: Any = None) -> None:
    patches.require(__name__, WRITTEN_FOR)
    from sqlalchemy import event
    from sqlalchemy.dialects.sqlite.base import SQLiteDialect
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    for target, name, fn in LISTENERS:
        event.listen(Engine if target == "engine" else Pool, name, fn)
    # The turn is given back once SQLite has ended the transaction (SQLAlchemy's own commit and
    # rollback events come before it, while the file is still locked).
    stock_commit = STOCK["do_commit"] = SQLiteDialect.do_commit
    stock_rollback = STOCK["do_rollback"] = SQLiteDialect.do_rollback

    def do_commit(self, dbapi_connection):
        try:
            stock_commit(self, dbapi_connection)
        finally:
            _end(_dbapi(dbapi_connection))

    def do_rollback(self, dbapi_connection):
        try:
            stock_rollback(self, dbapi_connection)
        finally:
            _end(_dbapi(dbapi_connection))

    SQLiteDialect.do_commit = do_commit
    SQLiteDialect.do_rollback = do_rollback


def applied() -> bool:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    return all(event.contains(Engine if t == "engine" else Pool, n, f) for t, n, f in LISTENERS)
