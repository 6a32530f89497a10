"""A hung action server (SIGSTOP) longer than a conversation lock's lifetime does not corrupt the
conversation: the queued messages are handled one after another, each stored with its own
events in the order they were sent, with increasing timestamps, and the next answer is about the
next question."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from bot.channels.guard import APOLOGY, STILL_ANSWERING
from tests.robustness.conftest import (customs, need_model, new_sender, post, say, stored_events,
                                       texts, verdicts)

pytestmark = pytest.mark.e2e

LIFETIME = 9  # seconds a conversation lock's ticket lives (TICKET_LOCK_LIFETIME)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    need_model()
    from bot.launcher import ActionServer, RasaServer

    tmp = tmp_path_factory.mktemp("hung")
    actions = ActionServer().start()
    rasa = RasaServer(actions.url, tracker_db=f"sqlite:///{tmp}/tracker.db",
                      env={"TICKET_LOCK_LIFETIME": str(LIFETIME), "ACTION_REPLY_TIMEOUT": "3"},
                      log=tmp / "rasa.log")
    try:
        rasa.start()
        yield actions, rasa
    finally:
        os.killpg(actions.proc.pid, signal.SIGCONT)
        rasa.cleanup()
        actions.stop()


def test_messages_queued_behind_a_hung_action_server_stay_in_order(servers):
    actions, rasa = servers
    sender = new_sender("hung")
    assert verdicts(say(rasa.rest, sender, "博士后出站补助我能拿吗")) == ["need_info"]
    queued = ["去遂昌", "民营企业", "开化县是山区县吗"]
    answers = {}

    def send(text: str) -> None:
        answers[text] = texts(post(rasa.rest, sender, text, timeout=120).json())

    os.killpg(actions.proc.pid, signal.SIGSTOP)
    try:
        threads = []
        for text in queued:
            threads.append(threading.Thread(target=send, args=(text,)))
            threads[-1].start()
            time.sleep(0.5)  # sent in this order
        time.sleep(LIFETIME + 4)  # the first turn has now outlived its lock's ticket
    finally:
        os.killpg(actions.proc.pid, signal.SIGCONT)
    for t in threads:
        t.join(timeout=120)
    # The person was told: no answer now, or (still queued when its wait ran out) that the
    # previous question is still being answered, so it was not taken.
    assert all(answers[t] in ([APOLOGY], [STILL_ANSWERING]) for t in queued), answers
    taken = [t for t in queued if answers[t] == [APOLOGY]]
    assert taken[:1] == queued[:1]

    # Whatever still runs of those turns finishes before the next message is handled.
    final = say(rasa.rest, sender, "景宁是山区县吗")
    assert any(c.get("county", {}).get("name") == "景宁畲族自治县" for c in customs(final)), final

    events = stored_events(rasa.tracker_db, sender)
    said = [e["text"] for e in events if e["event"] == "user"]
    assert said == ["博士后出站补助我能拿吗", *taken, "景宁是山区县吗"]
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps), "events stored out of order"
    # Each message's turn is complete before the next one starts: it ends listening.
    starts = [i for i, e in enumerate(events) if e["event"] == "user"]
    for begin, end in zip(starts, starts[1:] + [len(events)]):
        turn = events[begin:end]
        assert turn[-1].get("name") == "action_listen", [e.get("name") or e["event"] for e in turn]
        assert [e["event"] for e in turn].count("user") == 1
    # Nothing written twice.
    assert len({(e["event"], e["timestamp"]) for e in events}) == len(events)
