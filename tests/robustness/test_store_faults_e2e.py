"""A conversation store that fails is never hidden: with the SQLite file locked by another process
or damaged while the assistant runs, the person is told that the answer could not be kept (or,
when the conversation cannot even be read, gets the apology), the health check says so, the log
names the error, and nothing goes to a silent in-memory store."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bot.channels.guard import APOLOGY
from bot.stores import NOT_SAVED
from scripts import preflight
from tests.robustness.conftest import need_model, new_sender, say, texts, user_events, verdicts

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    need_model()
    from bot.launcher import ActionServer, RasaServer

    tmp = tmp_path_factory.mktemp("store-faults")
    actions = ActionServer().start()
    rasa = RasaServer(actions.url, tracker_db=f"sqlite:///{tmp}/tracker.db",
                      env={"STORE_RETRY_S": "2", "SANIC_WORKERS": "1"}, log=tmp / "rasa.log")
    try:
        rasa.start()
        yield rasa, tmp
    finally:
        rasa.cleanup()
        actions.stop()


def health(rasa) -> requests.Response:
    return requests.get(f"{rasa.base}/webhooks/health/", timeout=30)


class WriteLock:
    """Another process holding the SQLite write lock of the file (BEGIN IMMEDIATE)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> "WriteLock":
        code = ("import sqlite3, time\n"
                f"c = sqlite3.connect({str(self.path)!r}, isolation_level=None)\n"
                "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(120)")
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "locked"
        return self

    def __exit__(self, *exc) -> None:
        self.proc.kill()
        self.proc.wait()


def test_a_locked_database_is_retried_then_told_and_reported(servers):
    rasa, tmp = servers
    db = tmp / "tracker.db"
    sender = new_sender("locked")
    assert verdicts(say(rasa.rest, sender, "博士后出站补助我能拿吗")) == ["need_info"]
    assert health(rasa).status_code == 200

    with WriteLock(db):
        started = time.monotonic()
        answer = texts(say(rasa.rest, sender, "去遂昌"))
        took = time.monotonic() - started
        assert answer[-1] == NOT_SAVED and len(answer) >= 2  # the answer, then the notice
        assert 1.5 <= took < 10  # retried for STORE_RETRY_S, not blocked for good
        h = health(rasa)
        assert h.status_code == 503
        store = h.json()["conversation_store"]
        assert store["status"] == "failing" and "locked" in store["error"]
        assert h.json()["action_server"]["status"] == "ok"

    log = (tmp / "rasa.log").read_text(errors="replace")
    assert f"conversation store: could not save conversation {sender}" in log
    assert "database is locked" in log
    assert "InMemoryTrackerStore" not in log

    # The lock is gone: the person says it again, it is kept, and the conversation goes on.
    assert NOT_SAVED not in texts(say(rasa.rest, sender, "去遂昌"))
    assert health(rasa).status_code == 200
    assert verdicts(say(rasa.rest, sender, "民营企业")) == ["eligible"]
    assert [e["text"] for e in user_events(rasa.tracker_db, sender)] == [
        "博士后出站补助我能拿吗", "去遂昌", "民营企业"]


def test_a_database_damaged_while_running_is_told_reported_and_refused_at_start(servers):
    rasa, tmp = servers
    db = tmp / "tracker.db"
    sender = new_sender("damaged")
    assert verdicts(say(rasa.rest, sender, "博士后出站补助我能拿吗")) == ["need_info"]
    # What the write-ahead log holds goes into the file first, so the damage reaches what the
    # server reads (as it would after any automatic checkpoint).
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = db.stat().st_size
    with open(db, "r+b") as f:  # the whole file overwritten while the server has it open
        f.write(os.urandom(size))
        f.flush()
        os.fsync(f.fileno())

    told = texts(say(rasa.rest, sender, "去遂昌"))
    assert told[-1] in (NOT_SAVED, APOLOGY), told
    h = health(rasa)
    assert h.status_code == 503 and h.json()["conversation_store"]["status"] == "failing"
    log = (tmp / "rasa.log").read_text(errors="replace")
    assert "conversation store: could not" in log and "InMemoryTrackerStore" not in log
    # Every further message is told too, never answered as if it had been kept.
    told = texts(say(rasa.rest, new_sender("damaged"), "开化县是山区县吗"))
    assert told[-1] in (NOT_SAVED, APOLOGY), told

    found = preflight.check_tracker_db(f"sqlite:///{db}")
    assert found and str(db) in found[0]
