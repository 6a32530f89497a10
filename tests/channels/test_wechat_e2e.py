"""The WeChat channel in the real assistant: Rasa with the trained model and the action server,
started as `make run` starts them, spoken to as the WeChat platform speaks to it."""
from __future__ import annotations

import uuid

import pytest

from tests.channels.fake_wechat import AES_KEY, APPID, TOKEN, WeChatPlatform
from tests.channels.wechat_assistant import wechat_api, wechat_assistant  # noqa: F401

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def assistant(wechat_api):
    from bot.launcher import ROOT

    # Generous on a loaded test machine; the timing itself is covered by test_wechat.py.
    with wechat_assistant(wechat_api, ROOT / "results" / "test-logs" / "wechat",
                          WECHAT_AES_KEY=AES_KEY, WECHAT_PASSIVE_TIMEOUT="30") as a:
        yield a


def openid() -> str:
    return "o" + uuid.uuid4().hex[:27]


def test_signed_text_message_is_answered_from_the_document(assistant):
    wechat = WeChatPlatform(f"{assistant.base}/webhooks/wechat/webhook", TOKEN, APPID, AES_KEY)
    assert wechat.verify("e2e-echo").text == "e2e-echo"
    reply = wechat.send_text(openid(), "开化县是山区县吗", timeout=60)
    assert reply.status == 200, reply.body
    assert reply.fields is not None, reply.body
    assert "开化县" in reply.text and "山区县" in reply.text


def test_encrypted_message_and_forged_request(assistant):
    wechat = WeChatPlatform(f"{assistant.base}/webhooks/wechat/webhook", TOKEN, APPID, AES_KEY)
    user = openid()
    reply = wechat.send_text(user, "开化县是山区县吗", encrypted=True, timeout=60)
    assert reply.status == 200 and "开化县" in reply.text
    assert wechat.send_text(user, "开化县是山区县吗", token="forged").status == 403


def test_the_answer_fits_one_message_and_the_quotation_follows(assistant, wechat_api):
    from bot.channels.wechat_render import TEXT_LIMIT_BYTES, utf8_len

    wechat = WeChatPlatform(f"{assistant.base}/webhooks/wechat/webhook", TOKEN, APPID, AES_KEY)
    user = openid()
    reply = wechat.send_text(user, "创业担保贷款额度能提高吗", timeout=60)
    assert reply.status == 200 and reply.fields is not None, reply.body
    assert utf8_len(reply.text) <= TEXT_LIMIT_BYTES and "（1/" not in reply.text
    assert "创业担保贷款" in reply.text and "【原文】" not in reply.text
    [quotation] = wechat_api.wait_for(1, openid=user)
    assert quotation.startswith("【原文】三、主要举措（七）\n“")
    # "原文": the clause just discussed, in full, as the answer itself.
    again = wechat.send_text(user, "原文", timeout=60)
    assert again.text.startswith("【原文】三、主要举措（七）\n“加强创业扶持。")
