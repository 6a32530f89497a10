"""WeChat's five seconds are counted from when the platform sent the message, and every answer is
delivered exactly once, on a Rasa server with two workers: the first attempt waits in the
server's queue (the Rasa processes stopped with SIGSTOP), the answer is slow (the action server
stopped), and WeChat's retry comes on a new connection, to either worker."""
from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import pytest

from tests.channels.fake_wechat import TOKEN, WeChatPlatform
from tests.channels.wechat_assistant import wechat_api, wechat_assistant  # noqa: F401

pytestmark = pytest.mark.e2e

WECHAT_WAITS = 5.0  # the platform's wait for a passive reply


@pytest.fixture(scope="module")
def assistant(wechat_api, tmp_path_factory):
    with wechat_assistant(wechat_api, tmp_path_factory.mktemp("wechat-deadline"),
                          SANIC_WORKERS="2", ACTION_REPLY_TIMEOUT="30") as a:
        yield a


def attempt(url: str, openid: str, msg_id: str, out: list) -> None:
    """One delivery attempt, on its own connection; waits longer than WeChat to see when the
    server replies."""
    platform = WeChatPlatform(url, TOKEN)
    sent = time.monotonic()
    reply = platform.send_text(openid, "开化县是山区县吗", msg_id=msg_id, timeout=20)
    out.append((time.monotonic() - sent, reply, sent))


def test_a_queued_slow_message_is_answered_once_in_time_or_through_the_api(assistant, wechat_api):
    url = f"{assistant.base}/webhooks/wechat/webhook"
    rasa, actions = assistant.rasa.proc.pid, assistant.actions.proc.pid
    WeChatPlatform(url, TOKEN).send_text("o" + uuid.uuid4().hex[:27], "你好", timeout=60)  # warm
    for round_ in range(3):
        openid = "o" + uuid.uuid4().hex[:27]
        msg_id = str(int(time.time() * 1000) + round_)
        replies: list = []
        os.killpg(rasa, signal.SIGSTOP)
        os.killpg(actions, signal.SIGSTOP)
        try:
            first = threading.Thread(target=attempt, args=(url, openid, msg_id, replies))
            first.start()
            time.sleep(3.5)  # the request waits in the server's queue
            os.killpg(rasa, signal.SIGCONT)
            time.sleep(WECHAT_WAITS - 3.5)
            retry = threading.Thread(target=attempt, args=(url, openid, msg_id, replies))
            retry.start()  # WeChat's retry after five seconds without a reply
            time.sleep(0.3)  # the answer is ready a little after WeChat's five seconds
        finally:
            os.killpg(rasa, signal.SIGCONT)
            os.killpg(actions, signal.SIGCONT)
        first.join(timeout=60)
        retry.join(timeout=60)

        replies.sort(key=lambda item: item[2])  # in the order sent
        passive = [(took, r) for took, r, _ in replies if r.fields is not None]
        for took, r in passive:
            assert took < WECHAT_WAITS, f"passive reply after {took:.1f} s: WeChat has given up"
        deadline = time.monotonic() + 20
        while not passive and not wechat_api.texts(openid) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.5)  # anything sent twice would arrive by now
        through_api = [t for t in wechat_api.texts(openid) if "开化县" in t]
        delivered = [r.text for _, r in passive if "开化县" in (r.text or "")] + through_api[:1]
        assert len(delivered) == 1, (round_, [(round(t, 1), r.text or r.body) for t, r, _ in replies],
                                     wechat_api.texts(openid))
        assert len(through_api) <= 1 and not (passive and through_api)
