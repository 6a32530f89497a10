"""The conversation (tracker) store: Rasa's SQL tracker store, with less work per turn.

Configured in endpoints.yml as ``type: bot.stores.SQLTrackerStore``; the database, tables, rows
and their meaning are exactly Rasa's (``events`` table), so Rasa's own tools, the purge script
and any existing database keep working. What changes is only how much each turn costs:

* **SQLite keeps its connections.** SQLAlchemy 1.4 opens and closes a new SQLite connection for
  every session (NullPool), and each new connection runs the write-ahead-log pragmas again; a
  turn opened two or three. A small pool keeps them open (PostgreSQL is pooled already).
* **No count before each write.** Rasa counts the stored events of the conversation's latest
  session before every save, to know which events are new. The count is known: it is how many
  events the retrieve that started this turn read (or the last save wrote). It is remembered per
  conversation (a bounded LRU); when it is not known, Rasa's query is used. Several Rasa
  processes stay correct, because the lock store lets only one of them work on a conversation at a
  time and each turn starts with a retrieve, which refreshes the count.
* **One statement for the new events** instead of one ORM object per event, and the retrieve
  reads only the ``data`` column it uses.
"""
from __future__ import annotations

import itertools
import json
import logging
import threading
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore as RasaSQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.staff.turns import TurnIndex

logger = logging.getLogger(__name__)

# Conversations whose stored-event count is remembered; older ones fall back to a count query.
KNOWN_COUNTS = 20_000
SQLITE_POOL_SIZE = 4


class _Counts:
    """Bounded, thread-safe map: sender id -> events stored in its latest session."""

    def __init__(self, size: int = KNOWN_COUNTS) -> None:
        self.size = size
        self._d: "OrderedDict[str, int]" = OrderedDict()
        self._lock = threading.Lock()

    def get(self, sender: str) -> Optional[int]:
        with self._lock:
            n = self._d.get(sender)
            if n is not None:
                self._d.move_to_end(sender)
            return n

    def set(self, sender: str, n: int) -> None:
        with self._lock:
            self._d[sender] = n
            self._d.move_to_end(sender)
            while len(self._d) > self.size:
                self._d.popitem(last=False)

    def forget(self, sender: str) -> None:
        with self._lock:
            self._d.pop(sender, None)

    def __len__(self) -> int:
        return len(self._d)


class SQLTrackerStore(RasaSQLTrackerStore):
    """Rasa's SQLTrackerStore (same tables and rows) with pooled SQLite connections, no count
    query before a write whose count is known, and one INSERT per turn."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known_counts = _Counts()
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(
                url, poolclass=sa.pool.QueuePool, pool_size=SQLITE_POOL_SIZE, max_overflow=8,
                pool_pre_ping=False, connect_args={"check_same_thread": False},
            )
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        # The staff console's per-turn index (bot/staff/turns.py), in the same database.
        self.turn_index = TurnIndex(self.engine)

    # -- reading ---------------------------------------------------------------------------------

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool
                        ) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions)
            rows = query.with_entities(self.SQLEvent.data).all()
        events = [json.loads(data) for (data,) in rows]
        if not fetch_events_from_all_sessions:
            self.known_counts.set(sender_id, len(events))
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    # -- writing ---------------------------------------------------------------------------------

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        sender = tracker.sender_id
        with self.session_scope() as session:
            stored = self.known_counts.get(sender)
            if stored is None or stored > len(tracker.events):
                stored = self._event_query(session, sender, fetch_events_from_all_sessions=False).count()
            rows: List[Dict[str, Any]] = []
            for event in itertools.islice(tracker.events, stored, len(tracker.events)):
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
            session.commit()
        self.known_counts.set(sender, stored + len(rows))
        if rows:
            self.turn_index.record(sender, [json.loads(r["data"]) for r in rows])
        logger.debug(f"Tracker with sender_id '{sender}' stored to database")
