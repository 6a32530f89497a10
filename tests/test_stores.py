"""The conversation store writes exactly the rows Rasa's own SQL tracker store writes, reads the
same trackers back, and stays correct when several Rasa processes share one database."""
from __future__ import annotations

import asyncio
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
from bot.stores import SQLTrackerStore, _Counts

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
    c.known_counts.forget("u1")  # as after a restart: the count is not known and is queried
    tracker.update(UserUttered("谢谢", timestamp=1_700_000_100.0))
    run(c.save(tracker))
    assert len(rows(db)) == len(rows(reference)) + 1


def test_a_count_larger_than_the_tracker_is_not_trusted(tmp_path):
    db = tmp_path / "t.db"
    store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(db))
    play(store, "u1", conversation()[:1])
    store.known_counts.set("u1", 10_000)
    tracker = run(store.retrieve("u1"))  # refreshes the count
    assert store.known_counts.get("u1") == len(tracker.events)
    store.known_counts.set("u1", 10_000)
    tracker.update(UserUttered("谢谢", timestamp=1_700_000_100.0))
    run(store.save(tracker))
    assert [r[1] for r in rows(db)].count("user") == 2


def test_sqlite_connections_are_kept_open(tmp_path):
    store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"))
    opened = []
    from sqlalchemy import event
    event.listen(store.engine, "connect", lambda *a: opened.append(1))
    play(store, "u1", conversation())
    assert len(opened) <= 1  # NullPool would open one per session (two per turn)


def test_remembered_counts_are_bounded():
    counts = _Counts(size=3)
    for i in range(5):
        counts.set(f"s{i}", i)
    assert len(counts) == 3 and counts.get("s0") is None and counts.get("s4") == 4
    counts.get("s2")
    counts.set("s5", 5)
    assert counts.get("s2") == 2 and counts.get("s3") is None
