"""Conversations idle for longer than CONVERSATION_RETENTION_DAYS are deleted from the SQL
tracker store; the others are kept whole."""
from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bot.stores import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from scripts.purge_conversations import purge, retention_days

ROOT = Path(__file__).resolve().parents[2]
DAY = 86400.0
NOW = time.time()


def _store(db: Path) -> SQLTrackerStore:
    return SQLTrackerStore(Domain.load(str(ROOT / "bot" / "domain")), dialect="sqlite", db=str(db))


def _conversation(store: SQLTrackerStore, sender: str, *ages_in_days: float) -> None:
    events = []
    for age in ages_in_days:
        ts = NOW - age * DAY
        events += [UserUttered("开化县是山区县吗", timestamp=ts),
                   ActionExecuted("action_answer", timestamp=ts + 1),
                   BotUttered("是的。", timestamp=ts + 1)]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


def _counts(db: Path):
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT sender_id, COUNT(*) FROM events GROUP BY sender_id").fetchall())


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "tracker.db"
    store = _store(path)
    _conversation(store, "old", 400, 200)        # last event 200 days ago
    _conversation(store, "came-back", 400, 10)   # started long ago, active 10 days ago
    _conversation(store, "recent", 1)
    _conversation(store, "edge", 179)
    store.engine.dispose()
    return path


def test_purge_deletes_only_conversations_idle_beyond_retention(db):
    before = _counts(db)
    result = purge(f"sqlite:///{db}", days=180, now=NOW, dry_run=True)
    assert (result.conversations, result.events) == (1, before["old"])
    assert _counts(db) == before  # a dry run deletes nothing
    result = purge(f"sqlite:///{db}", days=180, now=NOW)
    assert (result.conversations, result.events) == (1, before["old"])
    after = _counts(db)
    assert "old" not in after
    assert after == {k: v for k, v in before.items() if k != "old"}
    # a shorter retention takes more; the store still works afterwards
    assert purge(f"sqlite:///{db}", days=5, now=NOW).conversations == 2
    assert set(_counts(db)) == {"recent"}
    store = _store(db)
    tracker = asyncio.run(store.retrieve("recent"))
    assert tracker is not None and tracker.latest_message.text == "开化县是山区县吗"
    store.engine.dispose()


def test_empty_or_new_store(tmp_path):
    assert purge(f"sqlite:///{tmp_path}/none.db", days=180).conversations == 0


def test_retention_setting(monkeypatch):
    monkeypatch.delenv("CONVERSATION_RETENTION_DAYS", raising=False)
    assert retention_days() == 180
    monkeypatch.setenv("CONVERSATION_RETENTION_DAYS", "30")
    assert retention_days() == 30
    for bad in ("0", "-1", "abc"):
        with pytest.raises(ValueError):
            retention_days(bad)


def test_command_line(db):
    env = dict(os.environ, CONVERSATION_RETENTION_DAYS="180", TRACKER_DB_URL=f"sqlite:///{db}")
    run = subprocess.run([sys.executable, "scripts/purge_conversations.py"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "deleted 6 events of 1 conversations" in run.stdout
    bad = subprocess.run([sys.executable, "scripts/purge_conversations.py", "--days", "0"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "positive" in bad.stderr
