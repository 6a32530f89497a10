"""Lock stores that stay correct when several Rasa processes handle one conversation.

Rasa processes the messages of one conversation one at a time: each message takes a numbered
ticket on the conversation's lock and waits for its turn. Rasa's own stores do each change of a
lock as read → change → write. Inside one process that is safe; across processes (Sanic workers,
or several servers behind a load balancer) two of them can read the same lock, and one write
undoes the other: two messages get the same ticket, or a finished message deletes the lock while
another is waiting on it, which then fails with "Could not acquire lock".

Here every change of a lock is one atomic step:

* ``SQLiteLockStore`` — for several Sanic workers of one Rasa server on one machine, with no
  outside server: the locks live in a small SQLite file, and each change is one ``BEGIN
  IMMEDIATE`` transaction (SQLite lets one writer in at a time, across processes).
* ``RedisLockStore`` — for several Rasa servers: Rasa's Redis lock store, with each change done
  as an optimistic Redis transaction (WATCH / MULTI / EXEC, retried when another process changed
  the lock in between).

Both keep the tickets of a running or waiting turn alive: Rasa gives each ticket a fixed lifetime
(``TICKET_LOCK_LIFETIME``, 60 s) so that a crashed process cannot hold a conversation forever,
but a turn that simply takes long (a hung action server) then lost its lock, and the queued turns
of the conversation ran at once beside it, writing their events out of order. While a turn holds
or waits for its ticket, its process pushes the ticket's expiry forward every quarter of the
lifetime; only a process that is gone (or frozen) lets its tickets expire. The action call
itself is bounded well below the lifetime (``ACTION_CALL_TIMEOUT``, bot/patches/action_timeout.py).

Select one in endpoints.yml with ``LOCK_STORE_TYPE=bot.locks.SQLiteLockStore`` or
``bot.locks.RedisLockStore``.
"""
from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import sqlite3
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncGenerator, Callable, Mapping, Optional, Text, Tuple

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.core.lock_store import RedisLockStore as RasaRedisLockStore

from bot.shared_state import SQLiteFile, remove_stale, server_file

logger = logging.getLogger(__name__)

# Set by a channel before it hands a message to Rasa (bot/channels/guard.py): the lock store sets
# the event once the message's turn holds the conversation lock, so that the channel can count
# its answer timeout from then, not from when the message started waiting behind earlier ones.
LOCK_TAKEN: "contextvars.ContextVar[Optional[asyncio.Event]]" = contextvars.ContextVar(
    "conversation_lock_taken", default=None)
# Rasa polls a waiting ticket every second; a queued message then waited up to a second after
# the turn before it ended.
WAIT_BETWEEN_CHECKS_S = 0.05

# change(lock or None) -> (lock to store, or None to delete it; value to return)
Change = Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], Any]]


class AtomicLockStore(LockStore):
    """The ticket operations of Rasa's LockStore, each as one atomic ``_update``."""

    def _update(self, conversation_id: Text, change: Change) -> Any:
        raise NotImplementedError

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def change(lock: Optional[TicketLock]):
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._update(conversation_id, change)
        except Exception as e:
            raise LockError(f"Error while acquiring lock. Error:\n{e}")

    @asynccontextmanager
    async def lock(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = WAIT_BETWEEN_CHECKS_S
                   ) -> AsyncGenerator[TicketLock, None]:
        """Rasa's ``LockStore.lock`` (same tickets and order), with the ticket kept alive from
        the moment it is issued until the turn is done, and `LOCK_TAKEN` set once it is held."""
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        keeper = asyncio.ensure_future(self._keep_alive(conversation_id, ticket, lock_lifetime))
        try:
            lock = await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
            taken = LOCK_TAKEN.get()
            if taken is not None:
                taken.set()
            yield lock
        finally:
            keeper.cancel()
            self.cleanup(conversation_id, ticket)

    async def _keep_alive(self, conversation_id: Text, ticket: int, lifetime: float) -> None:
        while True:
            await asyncio.sleep(max(0.2, lifetime / 4))
            try:
                self.extend_ticket(conversation_id, ticket, lifetime)
            except Exception as e:  # the ticket then expires as Rasa's would
                logger.warning("could not keep the lock of conversation %s alive: %s",
                               conversation_id, e)

    def extend_ticket(self, conversation_id: Text, ticket_number: int, lifetime: float) -> bool:
        """Moves a ticket's expiry to ``lifetime`` seconds from now; False if it is gone."""
        def change(lock: Optional[TicketLock]):
            if lock is None:
                return None, False
            for t in lock.tickets:
                if t.number == ticket_number:
                    t.expires = max(t.expires, time.time() + lifetime)
                    return lock, True
            return lock, False

        return self._update(conversation_id, change)

    def update_lock(self, conversation_id: Text) -> None:
        def change(lock: Optional[TicketLock]):
            if lock is None:
                return None, None
            lock.remove_expired_tickets()
            return lock, None

        self._update(conversation_id, change)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        def change(lock: Optional[TicketLock]):
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return lock, None

        self._update(conversation_id, change)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Give back the ticket; delete the lock only if nobody else holds or waits for one."""
        def change(lock: Optional[TicketLock]):
            if lock is None:
                return None, False
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                return lock, False
            return None, True

        deleted = self._update(conversation_id, change)
        if deleted:
            self._log_deletion(conversation_id, deletion_successful=True)


def default_sqlite_path(env: Optional[Mapping[str, str]] = None) -> Path:
    """LOCK_DB_PATH, else beside a SQLite tracker database, else var/locks.db."""
    return server_file("locks", env)


class SQLiteLockStore(AtomicLockStore):
    """Conversation locks shared by the processes of one machine, in a SQLite file.

    The file belongs to one running Rasa server and its workers: the start scripts remove it
    before the server starts (``bot.shared_state.remove_stale_server_files``), so no ticket of a stopped run remains.
    """

    def __init__(self, endpoint_config: Any = None, path: Optional[os.PathLike] = None,
                 busy_timeout_s: float = 10.0) -> None:
        self.file = SQLiteFile(path or default_sqlite_path(), (
            "CREATE TABLE IF NOT EXISTS locks (conversation_id TEXT PRIMARY KEY, data TEXT NOT NULL)",
        ), busy_timeout_s)
        self.path = self.file.path
        super().__init__()
        logger.debug(f"SQLite lock store at {self.path}")

    @staticmethod
    def remove_stale(path: Optional[os.PathLike] = None) -> None:
        """Delete the lock file (and its write-ahead log) of a stopped server."""
        remove_stale(path or default_sqlite_path())

    def _conn(self) -> sqlite3.Connection:
        return self.file.conn()

    def _read(self, conn: sqlite3.Connection, conversation_id: Text) -> Optional[TicketLock]:
        row = conn.execute("SELECT data FROM locks WHERE conversation_id = ?", (conversation_id,)).fetchone()
        return TicketLock.from_dict(json.loads(row[0])) if row else None

    def _write(self, conn: sqlite3.Connection, conversation_id: Text, lock: Optional[TicketLock]) -> None:
        if lock is None:
            conn.execute("DELETE FROM locks WHERE conversation_id = ?", (conversation_id,))
        else:
            conn.execute("INSERT OR REPLACE INTO locks (conversation_id, data) VALUES (?, ?)",
                         (conversation_id, lock.dumps()))

    def _update(self, conversation_id: Text, change: Change) -> Any:
        def work(conn: sqlite3.Connection) -> Any:
            lock, result = change(self._read(conn, conversation_id))
            self._write(conn, conversation_id, lock)
            return result

        return self.file.transaction(work)

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        return self._read(self._conn(), conversation_id)

    def delete_lock(self, conversation_id: Text) -> None:
        self._write(self._conn(), conversation_id, None)
        self._log_deletion(conversation_id, deletion_successful=True)

    def save_lock(self, lock: TicketLock) -> None:
        self._write(self._conn(), lock.conversation_id, lock)


class RedisLockStore(AtomicLockStore, RasaRedisLockStore):
    """Rasa's Redis lock store (same keys and values), each change one optimistic transaction."""

    def __init__(self, endpoint_config: Any = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = dict(endpoint_config.kwargs, host=endpoint_config.url or "localhost", **kwargs)
        for key in ("port", "db"):
            if key in kwargs and kwargs[key] not in (None, ""):
                kwargs[key] = int(kwargs[key])
        if not kwargs.get("password"):
            kwargs.pop("password", None)
        RasaRedisLockStore.__init__(self, **kwargs)

    def _update(self, conversation_id: Text, change: Change) -> Any:
        import redis

        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    current = TicketLock.from_dict(json.loads(raw)) if raw else None
                    lock, result = change(current)
                    pipe.multi()
                    if lock is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, lock.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another process changed this lock: read it again
