"""The conversation (tracker) store: Rasa's SQL tracker store, with less work per turn.

Configured in endpoints.yml as ``type: bot.stores.SQLTrackerStore``; the database, tables, rows
and their meaning are exactly Rasa's (``events`` table), so Rasa's own tools, the purge script
and any existing database keep working. What changes is only how much each turn costs:

* **SQLite keeps its connections.** SQLAlchemy 1.4 opens and closes a new SQLite connection for
  every session (NullPool), and each new connection runs the write-ahead-log pragmas again; a
  turn opened two or three. A small pool keeps them open (PostgreSQL is pooled already).
* **Each save writes exactly its own turn's events.** Rasa counts the stored events of the
  conversation's latest session before every save and writes the tracker's events past that
  count. Here the tracker itself remembers how many of its events came from the store (the
  retrieve that started the turn, or its last save) and only the events after those are written:
  no count query, and a turn never writes (or skips) another turn's events, even if two turns of
  one conversation ever ran at once. A tracker that did not come from this store is counted with
  Rasa's query.
* **One statement for the new events** instead of one ORM object per event, and the retrieve
  reads only the ``data`` column it uses.
* **One commit per turn.** The staff console's index rows (bot/staff/turns.py) are written in a
  savepoint of the transaction that inserts the events: an error there rolls back only the index
  rows and is logged; the events are committed all the same.

And nothing is lost silently. Rasa wraps its tracker store in a fail-safe store that, when a save
fails, keeps the conversation in memory only and logs "Falling back to use the
InMemoryTrackerStore", and answers a failed read as a new conversation. This store retries a
locked or unreachable database for up to ``STORE_RETRY_S`` seconds (default 3; each SQLite
attempt waits at most ``SQLITE_BUSY_TIMEOUT_S``) in a thread, so that the server goes on serving
other conversations meanwhile; then it raises `ConversationNotSaved` (or `ConversationNotRead`),
logs the error and records it for the health check (``/webhooks/health/``, bot/health.py).
bot/patches/tracker_store.py takes the fail-safe wrapper away and tells the person `NOT_SAVED` after the
answer, on every channel; a conversation that cannot be read gets the apology instead of an
answer without its context.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
import sqlite3
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Text, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore as RasaSQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.settings import Settings
from bot.staff.turns import TurnIndex

logger = logging.getLogger(__name__)

SQLITE_POOL_SIZE = 4
# How many of a tracker's events are in the store (set by a retrieve and by each save).
STORED = "_events_in_store"
T = TypeVar("T")

# Told after the answer when the turn could not be stored (every channel, bot/patches/tracker_store.py).
NOT_SAVED = ("（提示：系统暂时无法保存这次问答，接下来的提问可能接不上前面的内容。"
             f"如需继续，请稍后再试，或拨打{Settings.from_env(check=False, lenient=True).hotline}人力资源和社会保障服务热线咨询。）")


class ConversationStoreError(RuntimeError):
    """The conversation store failed for one conversation, after retrying."""


class ConversationNotSaved(ConversationStoreError):
    pass


class ConversationNotRead(ConversationStoreError):
    pass


def _retryable(e: BaseException) -> bool:
    """A locked, busy or unreachable database (worth trying again), not a damaged one."""
    return isinstance(e, (sa.exc.OperationalError, sqlite3.OperationalError))


def describe(e: BaseException) -> str:
    inner = getattr(e, "orig", None) or e
    text = (str(inner).strip().splitlines() or [""])[0][:200]
    return f"{type(inner).__name__}: {text}" if text else type(inner).__name__


class StoreHealth:
    """What this process last saw of the conversation store, for the health check."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.failing_since: Optional[float] = None
        self.last_error: Optional[str] = None
        self.last_failure: Optional[float] = None
        self.failures = 0

    def failed(self, e: BaseException) -> None:
        with self._lock:
            now = time.time()
            if self.failing_since is None:
                self.failing_since = now
            self.last_failure = now
            self.last_error = describe(e)
            self.failures += 1

    def ok(self) -> None:
        with self._lock:
            self.failing_since = None

    def snapshot(self) -> Dict[str, Any]:
        with self._lock:
            return {"failing_since": self.failing_since, "last_error": self.last_error,
                    "last_failure": self.last_failure, "failures": self.failures}


class SQLTrackerStore(RasaSQLTrackerStore):
    """Rasa's SQLTrackerStore (same tables and rows) with pooled SQLite connections, one INSERT
    per turn of exactly that turn's events, and retries, then errors, instead of a silent loss."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = Settings.from_env(check=False, lenient=True)
        self.retry_s = settings.store_retry_s
        self.health = StoreHealth()
        self.sqlite_path: Optional[str] = None
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            url = self.engine.url
            self.sqlite_path = url.database
            self.engine.dispose()
            self.engine = sa.create_engine(
                url, poolclass=sa.pool.QueuePool, pool_size=SQLITE_POOL_SIZE, max_overflow=8,
                pool_pre_ping=False, connect_args={
                    "check_same_thread": False,
                    "timeout": settings.sqlite_busy_timeout_s},
            )
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        # The staff console's per-turn index (bot/staff/turns.py), in the same database.
        self.turn_index = TurnIndex(self.engine)

    # -- retrying ------------------------------------------------------------------------------

    async def _retrying(self, what: str, sender: str, work: Callable[[], T]) -> T:
        """``work()`` in a thread; a locked or unreachable database is tried again, with growing
        pauses, until ``retry_s`` has passed."""
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + self.retry_s
        pause, attempts = 0.05, 0
        while True:
            attempts += 1
            try:
                return await loop.run_in_executor(None, work)
            except Exception as e:
                if not _retryable(e) or time.monotonic() + pause > deadline:
                    self.health.failed(e)
                    logger.error("conversation store: could not %s conversation %s (%d attempt%s "
                                 "over %.1f s): %s", what, sender, attempts,
                                 "" if attempts == 1 else "s", self.retry_s, describe(e))
                    raise
                await asyncio.sleep(pause)
                pause = min(1.0, pause * 2)

    # -- reading ---------------------------------------------------------------------------------

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool
                        ) -> Optional[DialogueStateTracker]:
        def read() -> List[Any]:
            with self.session_scope() as session:
                query = self._event_query(session, sender_id, fetch_events_from_all_sessions)
                return query.with_entities(self.SQLEvent.data).all()

        try:
            rows = await self._retrying("read", sender_id, read)
        except Exception as e:
            raise ConversationNotRead(f"conversation {sender_id} could not be read: {describe(e)}") from e
        events = [json.loads(data) for (data,) in rows]
        if self.domain and events:
            tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            setattr(tracker, STORED, len(tracker.events))
            return tracker
        return None

    # -- writing ---------------------------------------------------------------------------------

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        try:
            await self._retrying("save", tracker.sender_id, lambda: self._write(tracker))
        except Exception as e:
            raise ConversationNotSaved(
                f"conversation {tracker.sender_id} could not be saved: {describe(e)}") from e
        self.health.ok()
        logger.debug(f"Tracker with sender_id '{tracker.sender_id}' stored to database")

    def _write(self, tracker: DialogueStateTracker) -> List[Dict[str, Any]]:
        """Inserts the tracker's events that are not in the store yet; returns their rows."""
        sender = tracker.sender_id
        total = len(tracker.events)
        with self.session_scope() as session:
            stored = getattr(tracker, STORED, None)
            if stored is None or stored > total:
                stored = self._event_query(session, sender, fetch_events_from_all_sessions=False).count()
            rows: List[Dict[str, Any]] = []
            for event in itertools.islice(tracker.events, stored, total):
                data = event.as_dict()
                rows.append({
                    "sender_id": sender,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                })
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
                # The staff console's index, in a savepoint of this transaction: one commit for
                # both. An error in it rolls back only the savepoint and is logged (bot/staff/turns.py).
                self.turn_index.record(sender, [json.loads(r["data"]) for r in rows], session.connection())
            session.commit()
        setattr(tracker, STORED, total)
        return rows

    # -- the health check ------------------------------------------------------------------------

    def probe(self, timeout: float = 1.0) -> Optional[str]:
        """None when the store can be read and written now; else what is wrong. For SQLite, a
        fresh connection reads the schema and takes (and gives back) the write lock."""
        try:
            if self.sqlite_path:
                conn = sqlite3.connect(f"file:{self.sqlite_path}?mode=rw", uri=True,
                                       timeout=timeout, isolation_level=None)
                try:
                    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                    conn.execute("SELECT id FROM events ORDER BY id DESC LIMIT 1").fetchone()
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute("ROLLBACK")
                finally:
                    conn.close()
            else:
                with self.engine.connect() as conn:
                    conn.execute(sa.text("SELECT 1"))
        except Exception as e:
            return describe(e)
        return None
