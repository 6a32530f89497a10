"""One Rasa server with two Sanic workers (the default on two cores): requests reach both
workers, and nothing a conversation depends on is per worker — its events and locks, the rate
limit, WeChat's retries and the options a user was offered."""
from __future__ import annotations

import concurrent.futures
import time
import uuid

import psutil
import pytest
import requests

from bot.channels.guard import RATE_LIMITED
from bot.channels.wechat_render import OPTIONS_LEAD
from tests.channels.fake_wechat import TOKEN, WeChatPlatform
from tests.robustness.conftest import need_model, new_sender, say, texts, user_events, verdicts

pytestmark = pytest.mark.e2e
PER_MINUTE = 8


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    need_model()
    from bot.launcher import Assistant

    env = {"SANIC_WORKERS": "2", "LOCK_STORE_TYPE": "bot.locks.SQLiteLockStore",
           "GUARD_SENDER_PER_MINUTE": str(PER_MINUTE), "WECHAT_TOKEN": TOKEN,
           "WECHAT_PASSIVE_TIMEOUT": "60", "ACTION_REPLY_TIMEOUT": "60"}
    with Assistant(env=env, log_dir=tmp_path_factory.mktemp("logs")) as a:
        yield a


def workers(a):
    return psutil.Process(a.rasa.proc.pid).children(recursive=True)


def cpu(p: psutil.Process) -> float:
    t = p.cpu_times()
    return t.user + t.system


def test_two_workers_both_answer(assistant):
    procs = workers(assistant)
    assert len(procs) == 2
    before = [cpu(p) for p in procs]
    for i in range(30):  # a new connection each time: the kernel spreads them over the workers
        r = requests.post(assistant.rest, json={"sender": new_sender("w"), "message": "开化县是山区县吗"},
                          timeout=60)
        assert r.status_code == 200 and "开化县" in " ".join(texts(r.json()))
    used = [cpu(p) - b for p, b in zip(procs, before)]
    assert all(u > 0.05 for u in used), used


def test_a_conversation_keeps_its_context_whichever_worker_answers(assistant):
    sender = new_sender("w")
    say(assistant.rest, sender, "博士后出站补助我能拿吗")
    say(assistant.rest, sender, "去遂昌")
    final = say(assistant.rest, sender, "民营企业")
    assert "eligible" in verdicts(final)
    assert len(user_events(assistant.rasa.tracker_db, sender)) == 3


def test_messages_of_one_conversation_sent_at_once_are_all_stored_in_order(assistant):
    sender = new_sender("w")
    questions = ["开化县是山区县吗", "创业担保贷款有什么优惠", "第七条讲什么", "飞地是什么意思"]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda q: requests.post(
            assistant.rest, json={"sender": sender, "message": q}, timeout=60), questions))
    assert all(r.status_code == 200 and r.json() for r in replies)
    stored = [e["text"] for e in user_events(assistant.rasa.tracker_db, sender)]
    assert sorted(stored) == sorted(questions)


def test_the_rate_limit_counts_every_worker(assistant):
    sender = new_sender("w")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: requests.post(
            assistant.rest, json={"sender": sender, "message": "你好"}, timeout=60), range(PER_MINUTE + 4)))
    limited = [r for r in replies if texts(r.json()) == [RATE_LIMITED]]
    assert len(limited) == 4


def test_a_wechat_retry_is_answered_once_on_a_server_with_two_workers(assistant):
    platform = WeChatPlatform(f"{assistant.base}/webhooks/wechat/webhook", TOKEN)
    user, msg_id = "o" + uuid.uuid4().hex[:27], str(int(time.time() * 1000))
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: platform.send_text(user, "开化县是山区县吗", msg_id=msg_id, timeout=60),
                                range(4)))
    assert all(r.status == 200 for r in replies)
    assert any(r.text and "开化县" in r.text for r in replies)
    assert len(user_events(assistant.rasa.tracker_db, f"wechat:{user}")) == 1  # WeChat's own namespace


def test_wechat_options_are_understood_on_a_server_with_two_workers(assistant):
    platform = WeChatPlatform(f"{assistant.base}/webhooks/wechat/webhook", TOKEN)
    # Which worker takes which connection is the kernel's choice; tests/channels/test_wechat.py
    # sends them to one worker and then the other on purpose. Here: the real server, end to end.
    for _ in range(3):
        user = "o" + uuid.uuid4().hex[:27]
        platform.send_text(user, "博士后出站补助我能拿吗", timeout=60)
        asked = platform.send_text(user, "去遂昌", timeout=60)  # asks the employer, with options
        assert asked.status == 200 and OPTIONS_LEAD in (asked.text or ""), asked.text
        answer = platform.send_text(user, "1", timeout=60)
        assert answer.status == 200 and answer.text
        stored = [e["text"] for e in user_events(assistant.rasa.tracker_db, f"wechat:{user}")]
        assert len(stored) == 3 and stored[-1] != "1", stored  # chosen, not read as the text "1"
