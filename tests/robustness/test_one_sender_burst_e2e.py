"""Thirty messages at once from one sender: each is answered, or told that the previous question
is still being answered (and then not taken); none is told the system failed when it was in fact
answered and stored. The answer timeout counts from when a message's turn holds the lock."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.channels.guard import APOLOGY, STILL_ANSWERING
from tests.robustness.conftest import customs, need_model, new_sender, post, texts, user_events

pytestmark = pytest.mark.e2e

PLACES = ["开化县", "常山县", "江山市", "龙游县", "遂昌县", "松阳县", "云和县", "庆元县", "景宁畲族自治县",
          "龙泉市", "青田县", "缙云县", "文成县", "泰顺县", "永嘉县", "平阳县", "苍南县", "武义县",
          "磐安县", "三门县", "天台县", "仙居县", "淳安县", "柯城区", "衢江区", "莲都区", "乐清市",
          "瑞安市", "义乌市", "桐庐县"]


@pytest.fixture(scope="module")
def rasa(tmp_path_factory):
    need_model()
    from bot.launcher import ActionServer, RasaServer

    tmp = tmp_path_factory.mktemp("burst")
    actions = ActionServer().start()
    server = RasaServer(actions.url, tracker_db=f"sqlite:///{tmp}/tracker.db",
                        env={"ACTION_REPLY_TIMEOUT": "4", "GUARD_SENDER_PER_MINUTE": "100"},
                        log=tmp / "rasa.log")
    try:
        server.start()
        yield server
    finally:
        server.cleanup()
        actions.stop()


def test_thirty_messages_at_once_are_answered_or_told_to_wait_never_misreported(rasa):
    sender = new_sender("burst")
    questions = [f"{place}是山区县吗" for place in PLACES]
    with ThreadPoolExecutor(len(questions)) as pool:
        responses = dict(zip(questions, pool.map(lambda q: post(rasa.rest, sender, q, timeout=120), questions)))
    # Every message gets a list of messages: no error object, whatever its status.
    refused = {q: (r.status_code, r.text[:300]) for q, r in responses.items()
               if r.status_code != 200 or not isinstance(r.json(), list)}
    assert not refused, refused
    replies = {q: r.json() for q, r in responses.items()}

    answered = {q for q, r in replies.items() if texts(r) != [STILL_ANSWERING]}
    told_to_wait = set(questions) - answered
    assert not [q for q, r in replies.items() if APOLOGY in texts(r)], replies
    for q in answered:  # each answer is about its own question
        counties = [c["county"].get("name") for c in customs(replies[q]) if isinstance(c.get("county"), dict)]
        assert counties and counties[0] in q, (q, replies[q])
    # What was answered is stored, once each; what was not taken is not.
    stored = [e["text"] for e in user_events(rasa.tracker_db, sender)]
    assert sorted(stored) == sorted(answered), (told_to_wait, stored)
    assert len(answered) >= 10
