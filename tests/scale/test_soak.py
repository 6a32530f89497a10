"""The soak (python -m tests.scale.soak) in small: 5 users × 10 messages against the session's
assistant, with the same checks as the full run; and the soak's own bookkeeping."""
from __future__ import annotations

import sqlite3

import pytest

from tests.scale.soak import (MIX, conversation_problems, missing_events, run_load, schedule, soak,
                              soak_with_faults, user_events)


@pytest.mark.e2e
def test_small_soak_loses_nothing_and_memory_stays_flat(assistant):
    report = soak(
        [assistant.rest], assistant.rasa.tracker_db,
        {"rasa": assistant.rasa.proc.pid, "actions": assistant.actions.proc.pid},
        users=5, messages=10, time_limit=240, timeout=90,
    )
    print(report.text())
    assert report.sent == 50
    assert report.senders == report.conversations  # one sender per conversation
    assert report.failures() == [], report.text()


@pytest.mark.e2e
def test_small_soak_with_an_action_server_crash_and_a_rasa_restart_loses_nothing():
    """4 users × 24 messages under the supervisor of `make run`; the action server is killed
    after a fifth of the messages and Rasa restarted at half. Every message that reached the
    assistant is stored in order with its answer, every other one was told."""
    report = soak_with_faults(users=4, messages=24, think=0.3, shares=(0.2, 0.5),
                              time_limit=600, timeout=90)
    print(report.text())
    assert report.failures() == [], report.text()
    assert "restarts by the supervisor: {'actions': 1, 'rasa': 1}" in report.faults[-1]
    assert report.told.get("apology", 0) >= 1  # while the action server was away
    assert report.told.get("connection_refused", 0) >= 1  # while Rasa restarted
    assert report.conversation_problems == []


def test_stored_conversations_are_compared_message_by_message():
    sent = {"s": [("a", "answered", ["答a"]), ("b", "apology", ["抱歉"]), ("c", "unknown", []),
                  ("c", "answered", ["答c"])]}
    good = {"s": [("a", ["答a"]), ("b", []), ("c", ["答c"])]}
    assert conversation_problems(sent, good) == []
    twice = {"s": [("a", ["答a"]), ("b", []), ("c", []), ("c", ["答c"])]}  # stored, then sent again
    assert conversation_problems(sent, twice) == []
    assert conversation_problems(sent, {"s": [("a", []), ("b", []), ("c", ["答c"])]})  # answer lost
    assert conversation_problems(sent, {"s": [("b", []), ("a", ["答a"]), ("c", ["答c"])]})  # order
    assert conversation_problems(sent, {"s": [("a", ["答a"]), ("c", ["答c"])]})  # message lost


def test_the_mix_has_single_questions_follow_ups_and_an_eligibility_check():
    lengths = sorted({len(turns) for _, turns, _ in MIX})
    assert lengths == [1, 2, 3]
    # Users start at different points of the mix, so the servers see all kinds at once.
    assert schedule(0)[0] != schedule(1)[0]
    assert sorted(map(repr, schedule(0))) == sorted(map(repr, schedule(3)))


def test_event_counts_are_compared_per_sender(tmp_path):
    db = tmp_path / "tracker.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT,"
                     " timestamp REAL, intent_name TEXT, action_name TEXT, data TEXT)")
        rows = [("soak-x-u00-c000", "user"), ("soak-x-u00-c000", "action"),
                ("soak-x-u00-c000", "user"), ("soak-x-u01-c000", "user"), ("other", "user")]
        conn.executemany("INSERT INTO events (sender_id, type_name) VALUES (?, ?)", rows)
    stored = user_events(f"sqlite:///{db}", "soak-x-")
    assert stored == {"soak-x-u00-c000": 2, "soak-x-u01-c000": 1}
    assert missing_events({"soak-x-u00-c000": 2, "soak-x-u01-c000": 1}, stored) == []
    problems = missing_events({"soak-x-u00-c000": 3, "soak-x-u02-c000": 1}, stored)
    assert len(problems) == 3  # one message lost, one sender lost, one sender never sent


def test_the_load_only_targets_loopback():
    with pytest.raises(ValueError):
        run_load(["http://10.0.0.1:5005/webhooks/rest/webhook"], users=1, messages=1)
