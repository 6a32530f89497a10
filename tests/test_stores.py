"""The conversation store writes exactly the rows Rasa's own SQL tracker store writes, reads the
same trackers back, and stays correct when several Rasa processes share one database."""
from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import List

import pytest
from rasa.core.tracker_store import SQLTrackerStore as RasaSQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, BotUttered, Event, SessionStarted, SlotSet,
                                     UserUttered)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.launcher import ROOT
from bot.stores import ConversationNotSaved, SQLTrackerStore

DOMAIN = Domain.load(str(ROOT / "bot" / "domain"))


def run(coro):
    return asyncio.run(coro)


def turn(text: str, ts: float, intent: str = "ask_clause") -> List[Event]:
    return [
        UserUttered(text, intent={"name": intent, "confidence": 0.99}, timestamp=ts),
        ActionExecuted("action_answer", timestamp=ts + 0.1),
        BotUttered(f"答：{text}", timestamp=ts + 0.2),
        SlotSet("last_clause", "m7", timestamp=ts + 0.3),
        ActionExecuted("action_listen", timestamp=ts + 0.4),
    ]


def play(store, sender: str, turns: List[List[Event]]) -> None:
    """Each turn as Rasa's processor does it: retrieve (or create), add the events, save."""
    for events in turns:
        tracker = run(store.retrieve(sender))
        if tracker is None:
            tracker = DialogueStateTracker.from_events(sender, [ActionExecuted("action_listen", timestamp=1.0)])
        for e in events:
            tracker.update(e)
        run(store.save(tracker))


def rows(db: Path):
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id"
        ).fetchall()


def conversation():
    t = 1_700_000_000.0
    return [
        [ActionExecuted("action_session_start", timestamp=t), SessionStarted(timestamp=t + 0.01),
         ActionExecuted("action_listen", timestamp=t + 0.02)] + turn("创业担保贷款有什么优惠", t + 1),
        turn("由哪个部门负责", t + 10, "ask_units"),
        turn("开化县是山区县吗", t + 20, "ask_county"),
    ]


def test_same_rows_as_rasas_own_store(tmp_path):
    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    play(SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(ours)), "u1", conversation())
    play(RasaSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(theirs)), "u1", conversation())
    assert rows(ours) == rows(theirs)
    assert len(rows(ours)) == 1 + 3 + 5 * 3


def test_reads_back_the_same_tracker_as_rasas_store(tmp_path):
    db = tmp_path / "t.db"
    play(SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db)), "u1", conversation())
    ours = run(SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db)).retrieve("u1"))
    theirs = run(RasaSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db)).retrieve("u1"))
    assert ours.current_state() == theirs.current_state()
    assert [e.as_dict() for e in ours.events] == [e.as_dict() for e in theirs.events]
    assert ours.get_slot("last_clause") == "m7"
    full = run(SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db)).retrieve_full_tracker("u1"))
    assert len(full.events) == len(rows(db))


def test_several_processes_on_one_database_lose_and_duplicate_nothing(tmp_path):
    """Turns of one conversation alternate between two stores (two Rasa processes), each turn
    retrieving first, as under the lock store; a third store starts with nothing remembered."""
    db = tmp_path / "t.db"
    a, b = (SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db)) for _ in range(2))
    turns = conversation()
    play(a, "u1", turns[:1])
    play(b, "u1", turns[1:2])
    play(a, "u1", turns[2:3])
    reference = tmp_path / "ref.db"
    play(RasaSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(reference)), "u1", turns)
    assert rows(db) == rows(reference)
    c = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db))
    tracker = run(c.retrieve("u1"))
    tracker.update(UserUttered("谢谢", timestamp=1_700_000_100.0))
    run(c.save(tracker))
    assert len(rows(db)) == len(rows(reference)) + 1


def test_a_tracker_not_read_from_the_store_is_counted(tmp_path):
    db = tmp_path / "t.db"
    store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db))
    play(store, "u1", conversation()[:1])
    before = len(rows(db))
    stored = run(store.retrieve("u1"))
    built = DialogueStateTracker.from_events("u1", list(stored.events), DOMAIN.slots)  # no mark
    built.update(UserUttered("谢谢", timestamp=1_700_000_100.0))
    run(store.save(built))
    assert [r[1] for r in rows(db)].count("user") == 2
    assert len(rows(db)) == before + 1


def test_two_turns_of_one_conversation_at_once_each_write_exactly_their_own_events(tmp_path):
    """As when a conversation lock expired under a hung turn: two turns retrieved the same
    conversation before either saved. Each save writes its own turn, nothing twice or lost."""
    db = tmp_path / "t.db"
    store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db))
    play(store, "u1", conversation()[:1])
    before = len(rows(db))
    first, second = run(store.retrieve("u1")), run(store.retrieve("u1"))
    for e in turn("由哪个部门负责", 1_700_000_010.0, "ask_units"):
        first.update(e)
    for e in turn("开化县是山区县吗", 1_700_000_020.0, "ask_county") + turn("那乐清呢", 1_700_000_030.0):
        second.update(e)
    run(store.save(first))
    run(store.save(second))
    texts = [json.loads(r[5]).get("text") for r in rows(db)[before:] if r[1] == "user"]
    assert texts == ["由哪个部门负责", "开化县是山区县吗", "那乐清呢"]
    assert len(rows(db)) == before + 5 * 3
    run(store.save(second))  # saving again writes nothing new
    assert len(rows(db)) == before + 5 * 3


def test_a_locked_database_is_retried_then_reported_not_kept_in_memory(tmp_path, monkeypatch):
    """Another process holds the SQLite write lock: the save is tried for STORE_RETRY_S, then
    fails loudly (ConversationNotSaved, the health record) instead of pretending to succeed."""
    import subprocess
    import sys
    import time

    monkeypatch.setenv("STORE_RETRY_S", "1.5")
    monkeypatch.setenv("SQLITE_BUSY_TIMEOUT_S", "0.2")
    db = tmp_path / "t.db"
    store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db))
    play(store, "u1", conversation()[:1])
    before = len(rows(db))
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(30)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        tracker = run(store.retrieve("u1"))  # reading is not blocked by a writer (WAL)
        tracker.update(UserUttered("谢谢", timestamp=1_700_000_100.0))
        started = time.monotonic()
        with pytest.raises(ConversationNotSaved, match="database is locked"):
            run(store.save(tracker))
        assert 1.0 <= time.monotonic() - started < 5
        assert store.health.snapshot()["failing_since"] is not None
        assert "locked" in store.probe(timeout=0.2)
    finally:
        holder.kill()
        holder.wait()
    assert len(rows(db)) == before
    run(store.save(tracker))  # the lock is gone: the same turn is stored now
    assert len(rows(db)) == before + 1
    assert store.health.snapshot()["failing_since"] is None and store.probe() is None


def test_sqlite_connections_are_kept_open(tmp_path):
    store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"))
    opened = []
    from sqlalchemy import event
    event.listen(store.engine, "connect", lambda *a: opened.append(1))
    play(store, "u1", conversation())
    assert len(opened) <= 1  # NullPool would open one per session (two per turn)
