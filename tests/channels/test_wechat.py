"""The WeChat webhook as the platform sees it: a real server on loopback, a scripted bot behind it,
the fake WeChat platform in front of it and the fake customer-service API behind it."""
from __future__ import annotations

import time
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bot.channels import wechat as channel_module
from bot.channels.wechat import WeChatInput
from bot.channels.wording import EMPTY_TEXT, TEXT_ONLY, UNAVAILABLE, VOICE_UNRECOGNISED, welcome
from bot.channels.wechat_render import OPTIONS_LEAD, QUOTE_HINT, TEXT_LIMIT_BYTES, utf8_len
from tests.channels.fake_wechat import AES_KEY, APPID, TOKEN, WeChatPlatform, sign
from tests.channels.wechat_fixtures import api, bot, make_server, server, user, wechat  # noqa: F401

CREDENTIALS = Path(__file__).resolve().parents[2] / "bot" / "credentials.yml"
CLAUSE = "支持山区26县设立“飞地”人才平台，在“飞地”工作的人才视同在山区县工作。"
BUTTONS = [{"title": "（一）支持引进高端人才", "payload": '/ask_clause{"measure":"m1"}'},
           {"title": "（二）加大“飞地”人才扶持力度", "payload": '/ask_clause{"measure":"m2"}'},
           {"title": "（七）加强创业扶持", "payload": '/ask_clause{"measure":"m7"}'}]


# ------------------------------------------------------------------ verification and signatures

def test_server_verification_echoes_echostr(wechat):
    r = wechat.verify("1234567890")
    assert (r.status_code, r.text) == (200, "1234567890")


def test_verification_with_wrong_token_is_refused(wechat):
    r = wechat.verify(token="guessed-token")
    assert r.status_code == 403 and "1234567890" not in r.text


def test_text_message_is_answered_passively(wechat, bot, user):
    bot.replies["开化县是山区县吗"] = [{"text": "是的，开化县属于山区26县。",
                                      "custom": {"county": {"name": "开化县"}}}]
    reply = wechat.send_text(user, "开化县是山区县吗")
    assert reply.status == 200
    assert reply.fields["MsgType"] == "text"
    assert reply.fields["ToUserName"] == user
    assert reply.fields["FromUserName"] == wechat.account
    assert reply.text == "是的，开化县属于山区26县。"
    [received] = bot.received
    # the user's conversation, in WeChat's own namespace (no other channel can name it)
    assert (received.sender_id, received.input_channel) == (f"wechat:{user}", "wechat")
    assert received.metadata["wechat"]["msg_type"] == "text"


def test_forged_signature_is_refused_and_nothing_processed(wechat, bot, user):
    reply = wechat.send_text(user, "开化县是山区县吗", token="not-the-token")
    assert reply.status == 403
    unsigned = requests.post(wechat.url, data=wechat.text_xml(user, "你好").encode(), timeout=10)
    assert unsigned.status_code == 403
    assert bot.received == []


@pytest.mark.parametrize("offset", [-301, -3600, 3600])
def test_stale_or_future_timestamp_is_refused(wechat, bot, user, offset):
    reply = wechat.send_text(user, "开化县是山区县吗", timestamp=int(time.time()) + offset)
    assert reply.status == 403
    assert wechat.verify(timestamp=int(time.time()) + offset).status_code == 403
    assert bot.received == []


def test_a_signed_url_replayed_with_another_body_is_refused(wechat, bot, user):
    """Plaintext mode signs the URL, not the body: a captured URL must not carry a forged
    message. The same URL with the same body is WeChat's retry, answered once."""
    q = wechat.query()
    # WeChat's retry sends the very bytes again (a body built a second later has another CreateTime).
    message = wechat.text_xml(user, "开化县是山区县吗", msg_id="1001")
    first = wechat.post(message, **_url(q))
    assert first.status == 200 and first.text == "你说的是：开化县是山区县吗"
    retry = wechat.post(message, **_url(q))
    assert retry.status == 200
    forged = wechat.send_text(user, "我的身份证号是多少", msg_id="1002", **_url(q))
    assert (forged.status, forged.body) == (403, "signed URL already used")
    other_user = wechat.send_text("o" + "x" * 27, "你好", msg_id="1003", **_url(q))
    assert other_user.status == 403
    assert bot.texts == ["开化县是山区县吗"]
    assert wechat.send_text(user, "你好").status == 200  # a new signed URL is fine


def test_a_signed_url_is_remembered_by_every_worker(two_workers, bot, user):
    a, b = two_workers
    q = a.query()
    assert a.send_text(user, "开化县", msg_id="2001", **_url(q)).status == 200
    assert b.send_text(user, "别的问题", msg_id="2002", **_url(q)).status == 403
    assert bot.texts == ["开化县"]


def _url(q):
    return {"timestamp": int(q["timestamp"]), "nonce": q["nonce"]}


def test_non_numeric_timestamp_is_refused(wechat, bot, user):
    q = wechat.query()
    q["timestamp"] = "soon"
    r = requests.post(wechat.url, params=q, data=wechat.text_xml(user, "你好").encode(), timeout=10)
    assert r.status_code == 403 and bot.received == []


# ------------------------------------------------------------------ safe mode

def test_encrypted_message_gets_encrypted_reply(wechat, bot, user):
    bot.replies["飞地人才有什么待遇"] = [{"text": CLAUSE}]
    reply = wechat.send_text(user, "飞地人才有什么待遇", encrypted=True)
    assert reply.status == 200
    assert "<Encrypt>" in reply.body and CLAUSE not in reply.body  # only ciphertext on the wire
    assert reply.text == CLAUSE  # decrypted by the platform, msg_signature checked
    assert bot.texts == ["飞地人才有什么待遇"]


def test_encrypted_message_with_bad_msg_signature_is_refused(wechat, bot, user):
    reply = wechat.send_text(user, "你好", encrypted=True, params={"msg_signature": "0" * 40})
    assert reply.status == 403 and bot.received == []


def test_encrypted_message_for_another_account_is_refused(server, bot, user):
    other = WeChatPlatform(server.url, TOKEN, "wxanotherappid00", AES_KEY)
    reply = other.send_text(user, "你好", encrypted=True)
    assert reply.status == 400 and bot.received == []


def test_encrypted_garbage_is_refused(wechat, bot, user):
    q = wechat.query()
    encrypt = "bm90IGEgY2lwaGVydGV4dA=="
    q.update(encrypt_type="aes", msg_signature=sign(TOKEN, q["timestamp"], q["nonce"], encrypt))
    body = f"<xml><ToUserName>gh</ToUserName><Encrypt>{encrypt}</Encrypt></xml>"
    r = requests.post(wechat.url, params=q, data=body.encode(), timeout=10)
    assert r.status_code == 400 and bot.received == []


def test_safe_mode_without_key_answers_503_but_plaintext_works(make_server, bot, user):
    server = make_server(aes_key="not-a-valid-key")
    wechat = WeChatPlatform(server.url, TOKEN, APPID, AES_KEY)
    assert wechat.send_text(user, "你好", encrypted=True).status == 503
    assert wechat.send_text(user, "你好").text == "你说的是：你好"


# ------------------------------------------------------------------ retries and slow answers

def test_same_msg_id_three_times_at_once_is_processed_once(wechat, bot, user):
    bot.delay = 0.5
    msg_id = wechat.next_msg_id()
    with ThreadPoolExecutor(3) as pool:
        replies = list(pool.map(lambda _: wechat.send_text(user, "开化县", msg_id=msg_id), range(3)))
    assert bot.texts == ["开化县"]
    assert [r.text for r in replies] == ["你说的是：开化县"] * 3


def test_retry_after_the_answer_gets_the_same_reply_without_reprocessing(wechat, bot, user):
    msg_id = wechat.next_msg_id()
    first = wechat.send_text(user, "开化县", msg_id=msg_id)
    retries = [wechat.send_text(user, "开化县", msg_id=msg_id) for _ in range(2)]
    assert bot.texts == ["开化县"]
    assert {r.text for r in retries} == {first.text}


def test_slow_answer_replies_success_and_arrives_by_customer_service_api(make_server, bot, api,
                                                                        user):
    server = make_server(passive_timeout=0.3)
    wechat = WeChatPlatform(server.url, TOKEN, APPID, AES_KEY)
    bot.delay = 1.0
    msg_id = wechat.next_msg_id()
    started = time.monotonic()
    first = wechat.send_text(user, "慢问题", msg_id=msg_id)
    assert (first.status, first.body) == (200, "success")
    assert time.monotonic() - started < 1.0  # did not wait for the answer
    retry = wechat.send_text(user, "慢问题", msg_id=msg_id)  # a retry while it is being answered
    assert (retry.status, retry.body) == (200, "success")
    assert api.wait_for(1, openid=user) == ["你说的是：慢问题"]
    time.sleep(0.5)
    assert api.texts(user) == ["你说的是：慢问题"]  # delivered once
    assert bot.texts == ["慢问题"]
    assert api.token_requests == 1


def test_slow_answer_in_safe_mode_is_delivered_too(make_server, bot, api, user):
    server = make_server(passive_timeout=0.2)
    wechat = WeChatPlatform(server.url, TOKEN, APPID, AES_KEY)
    bot.delay = 0.6
    assert wechat.send_text(user, "慢问题", encrypted=True).body == "success"
    assert api.wait_for(1, openid=user) == ["你说的是：慢问题"]


def test_refused_customer_service_message_does_not_break_the_channel(make_server, bot, api, user):
    server = make_server(passive_timeout=0.2)
    wechat = WeChatPlatform(server.url, TOKEN, APPID, AES_KEY)
    api.fail_with = 48001  # api unauthorized: an account without the customer-service API
    bot.delay = 0.5
    assert wechat.send_text(user, "慢问题").body == "success"
    time.sleep(1.0)
    api.fail_with = None
    bot.delay = 0
    assert wechat.send_text(user, "快问题").text == "你说的是：快问题"


def test_slow_answer_without_api_credentials_is_dropped_quietly(make_server, bot, api, user):
    server = make_server(passive_timeout=0.2, secret="")
    wechat = WeChatPlatform(server.url, TOKEN, APPID, AES_KEY)
    bot.delay = 0.4
    assert wechat.send_text(user, "慢问题").body == "success"
    time.sleep(0.8)
    assert api.sent == []
    assert wechat.verify().status_code == 200


# ------------------------------------------------------------------ rendering

def test_long_answer_first_part_passive_rest_by_customer_service(wechat, bot, api, user):
    lines = [f"{i}. {CLAUSE}" for i in range(1, 61)]  # ~6.6 KB
    bot.replies["全部措施"] = [{"text": "\n".join(lines)}]
    reply = wechat.send_text(user, "全部措施")
    assert utf8_len(reply.text) <= TEXT_LIMIT_BYTES
    total = int(reply.text.rsplit("/", 1)[1].rstrip("）"))
    assert reply.text.endswith(f"（1/{total}）") and total >= 4
    rest = api.wait_for(total - 1, openid=user)
    assert all(utf8_len(t) <= TEXT_LIMIT_BYTES for t in rest)
    assert [t.rsplit("\n", 1)[1] for t in rest] == [f"（{i}/{total}）" for i in range(2, total + 1)]
    shown = [p.rsplit("\n", 1)[0] for p in [reply.text, *rest]]
    assert "\n".join(shown).split("\n") == lines


QUOTE = "【原文】三、主要举措（二）\n“" + CLAUSE + "”"
QUOTED_ANSWER = "在“飞地”工作的人才视同在山区县工作。\n" + QUOTE + "\n责任单位：省人力社保厅。"


def test_the_answer_comes_first_and_its_quotation_follows_by_customer_service(wechat, bot, api, user):
    bot.replies["飞地人才"] = [{"text": QUOTED_ANSWER},
                              {"custom": {"citations": [{"clause_id": "m2", "location": "三、主要举措（二）"}]}}]
    reply = wechat.send_text(user, "飞地人才")
    assert reply.text == "在“飞地”工作的人才视同在山区县工作。\n责任单位：省人力社保厅。"
    assert api.wait_for(1, openid=user) == [QUOTE]


def test_without_the_customer_service_api_the_quotation_is_offered_on_request(make_server, bot, api, user):
    for server in (make_server(secret=""), make_server(quotation="on_request")):
        wechat = WeChatPlatform(server.url, TOKEN, APPID, AES_KEY)
        bot.replies["飞地人才"] = [{"text": QUOTED_ANSWER}]
        reply = wechat.send_text(user, "飞地人才")
        assert reply.text == ("在“飞地”工作的人才视同在山区县工作。\n责任单位：省人力社保厅。\n\n" + QUOTE_HINT)
        # "原文" reaches the assistant, whose answer is the quotation itself.
        bot.replies["原文"] = [{"text": QUOTE}]
        assert wechat.send_text(user, "原文").text == QUOTE
    time.sleep(0.3)
    assert api.sent == []


def test_numbered_options_still_work_beside_a_quotation(wechat, bot, api, user):
    bot.replies["人才政策"] = [{"text": QUOTED_ANSWER, "buttons": BUTTONS[:2]}]
    reply = wechat.send_text(user, "人才政策")
    assert reply.text.endswith(OPTIONS_LEAD + "\n1. （一）支持引进高端人才\n2. （二）加大“飞地”人才扶持力度")
    assert "【原文】" not in reply.text
    assert api.wait_for(1, openid=user) == [QUOTE]
    wechat.send_text(user, "2")
    assert bot.texts == ["人才政策", '/ask_clause{"measure":"m2"}']


def test_the_quotation_setting_is_checked(monkeypatch):
    monkeypatch.setenv("WECHAT_QUOTATION", "on_request")
    assert WeChatInput(token=TOKEN).settings.quotation == "on_request"
    monkeypatch.setenv("WECHAT_QUOTATION", "sometimes")
    with pytest.raises(ValueError, match="WECHAT_QUOTATION"):
        WeChatInput(token=TOKEN)


def test_buttons_are_numbered_and_a_number_sends_the_payload(wechat, bot, user):
    bot.replies["人才政策"] = [{"text": "您想了解哪一项措施？", "buttons": BUTTONS}]
    reply = wechat.send_text(user, "人才政策")
    assert reply.text == ("您想了解哪一项措施？\n\n" + OPTIONS_LEAD + "\n1. （一）支持引进高端人才"
                          "\n2. （二）加大“飞地”人才扶持力度\n3. （七）加强创业扶持")
    for b in BUTTONS:  # every answer offers the options again
        bot.replies[b["payload"]] = [{"text": CLAUSE, "buttons": BUTTONS}]
    assert wechat.send_text(user, "2").text.startswith(CLAUSE)
    wechat.send_text(user, "３")  # full-width
    wechat.send_text(user, "一")  # Chinese numeral
    assert bot.texts == ["人才政策", '/ask_clause{"measure":"m2"}', '/ask_clause{"measure":"m7"}',
                         '/ask_clause{"measure":"m1"}']


def test_number_without_matching_option_is_sent_as_text(wechat, bot, user):
    bot.replies["人才政策"] = [{"text": "哪一项？", "buttons": BUTTONS[:2]}]
    wechat.send_text(user, "人才政策")
    wechat.send_text(user, "5")  # out of range: the bot gets the text
    wechat.send_text(user, "1")  # the last reply offered nothing: the bot gets the text
    other = "o-another-user"
    bot.replies["人才政策"] = [{"text": "哪一项？", "buttons": BUTTONS}]
    wechat.send_text(user, "人才政策")
    wechat.send_text(other, "1")  # options belong to the user they were offered to
    assert bot.texts == ["人才政策", "5", "1", "人才政策", "1"]


# ------------------------------------------------------------------ message types

def test_subscribe_is_welcomed_by_the_bot(wechat, bot, user):
    bot.replies["/greet"] = [{"text": "您好！我是政策问答助手。"}]
    reply = wechat.post(wechat.xml(user, "event", {"Event": "subscribe", "EventKey": ""}))
    assert reply.text == "您好！我是政策问答助手。"
    assert bot.texts == ["/greet"]


def test_subscribe_gets_a_welcome_even_if_the_bot_says_nothing(wechat, bot, user):
    bot.replies["/greet"] = []
    reply = wechat.post(wechat.xml(user, "event", {"Event": "subscribe",
                                                   "EventKey": "qrscene_123"}))
    assert reply.text == welcome()
    assert welcome().startswith("您好，欢迎关注！我可以解答浙人社发〔2021〕22号《关于进一步加强山区26县")


def test_subscribe_retry_is_processed_once(wechat, bot, user):
    xml = wechat.xml(user, "event", {"Event": "subscribe"}, create_time=int(time.time()))
    assert wechat.post(xml).text == wechat.post(xml).text
    assert bot.texts == ["/greet"]


@pytest.mark.parametrize("event", ["unsubscribe", "CLICK", "VIEW", "LOCATION"])
def test_other_events_get_success_and_reach_no_bot(wechat, bot, user, event):
    reply = wechat.post(wechat.xml(user, "event", {"Event": event, "EventKey": "k"}))
    assert (reply.status, reply.body) == (200, "success")
    assert bot.received == []


def test_voice_with_recognition_is_treated_as_text(wechat, bot, user):
    bot.replies["开化县是山区县吗"] = [{"text": "是的，开化县属于山区26县。"}]
    xml = wechat.xml(user, "voice", {"MediaId": "m1", "Format": "amr",
                                     "Recognition": "开化县是山区县吗", "MsgId": wechat.next_msg_id()})
    assert wechat.post(xml).text == "是的，开化县属于山区26县。"
    assert bot.texts == ["开化县是山区县吗"]


def test_voice_without_recognition_asks_for_text(wechat, bot, user):
    xml = wechat.xml(user, "voice", {"MediaId": "m1", "Format": "amr",
                                     "MsgId": wechat.next_msg_id()})
    assert wechat.post(xml).text == VOICE_UNRECOGNISED
    assert bot.received == []


@pytest.mark.parametrize("msg_type, fields", [
    ("image", {"PicUrl": "http://127.0.0.1:9/a.jpg", "MediaId": "m"}),
    ("location", {"Location_X": "29.1", "Location_Y": "118.4", "Scale": "15", "Label": "开化"}),
    ("link", {"Title": "t", "Description": "d", "Url": "http://127.0.0.1:9/"}),
    ("video", {"MediaId": "m", "ThumbMediaId": "t"}),
    ("miniprogrampage", {"Title": "t"}),
])
def test_non_text_messages_are_answered_politely(wechat, bot, user, msg_type, fields):
    reply = wechat.post(wechat.xml(user, msg_type, {**fields, "MsgId": wechat.next_msg_id()}))
    assert reply.text == TEXT_ONLY
    assert bot.received == []


def test_blank_text_asks_for_a_question(wechat, bot, user):
    assert wechat.send_text(user, "   ").text == EMPTY_TEXT
    assert bot.received == []


def test_bot_failure_gets_an_apology_not_an_error(wechat, bot, user):
    bot.fail = True
    reply = wechat.send_text(user, "开化县是山区县吗")
    assert reply.status == 200 and reply.text == UNAVAILABLE


# ------------------------------------------------------------------ hostile and broken input

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<xml><ToUserName>gh</ToUserName><FromUserName>oU</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&d;</Content><MsgId>1</MsgId></xml>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh</ToUserName><FromUserName>oU</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&x;</Content><MsgId>2</MsgId></xml>"""


@pytest.mark.parametrize("body", [
    "this is not xml", "<xml><Content>unclosed</xml>", "", "<html></html>", BILLION_LAUGHS, XXE,
    "<xml><MsgType>text</MsgType></xml>",
])
def test_malformed_or_hostile_xml_is_refused_with_400(wechat, bot, body):
    reply = wechat.post(body)
    assert reply.status == 400
    assert "root:" not in reply.body
    assert bot.received == []
    assert wechat.verify().status_code == 200  # still serving


def test_hostile_xml_inside_the_encrypted_envelope_is_refused(wechat, bot):
    assert wechat.post(XXE, encrypted=True).status == 400
    assert wechat.post(BILLION_LAUGHS, encrypted=True).status == 400
    assert bot.received == []


def test_oversized_body_is_refused_with_413(wechat, bot, user):
    big = wechat.text_xml(user, "山" * 30_000)  # ~90 KB
    assert wechat.post(big).status == 413
    # Without Content-Length (chunked), the limit holds while reading.
    q = wechat.query()
    chunks = (big.encode()[i:i + 8192] for i in range(0, len(big.encode()), 8192))
    r = requests.post(wechat.url, params=q, data=chunks, timeout=10)
    assert r.status_code == 413
    assert bot.received == []


# ------------------------------------------------------------------ configuration

def test_unconfigured_channel_loads_and_answers_503(make_server, bot, user):
    channel = WeChatInput.from_credentials({"token": "", "appid": "", "secret": "", "aes_key": ""})
    assert not channel.configured and channel.client is None
    server = make_server(token="", appid="", secret="", aes_key="")
    wechat = WeChatPlatform(server.url, "", APPID)
    assert wechat.verify().status_code == 503
    assert wechat.send_text(user, "你好").status == 503
    health = requests.get(server.url.rsplit("/", 1)[0] + "/", timeout=10).json()
    assert health == {"status": "ok", "configured": False}
    assert bot.received == []


def test_settings_from_credentials_and_environment(monkeypatch):
    monkeypatch.setenv("WECHAT_API_BASE", "http://127.0.0.1:9")
    monkeypatch.setenv("WECHAT_PASSIVE_TIMEOUT", "2.5")
    channel = WeChatInput.from_credentials(
        {"token": TOKEN, "appid": APPID, "secret": "s", "aes_key": AES_KEY})
    assert channel.name() == "wechat" and channel.url_prefix() == "wechat"
    assert channel.settings.passive_timeout == 2.5
    assert channel.client.API_BASE_URL == "http://127.0.0.1:9/cgi-bin/"
    assert channel.crypto is not None
    monkeypatch.setenv("WECHAT_PASSIVE_TIMEOUT", "soon")
    monkeypatch.delenv("WECHAT_API_BASE")
    channel = WeChatInput.from_credentials({"token": TOKEN, "appid": APPID, "secret": "s"})
    assert channel.settings.passive_timeout == channel_module.DEFAULT_PASSIVE_TIMEOUT
    assert channel.client.API_BASE_URL == "https://api.weixin.qq.com/cgi-bin/"
    assert channel.crypto is None


def test_channel_loads_from_the_projects_credentials(monkeypatch):
    from rasa.core.run import create_http_input_channels

    for name in ("WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_SECRET", "WECHAT_AES_KEY",
                 "WIDGET_ALLOWED_ORIGINS"):
        monkeypatch.setenv(name, "")
    [channel] = [c for c in create_http_input_channels(None, str(CREDENTIALS))
                 if isinstance(c, WeChatInput)]
    assert not channel.configured  # loads, and its webhook answers 503
    monkeypatch.setenv("WECHAT_TOKEN", TOKEN)
    monkeypatch.setenv("WECHAT_APPID", APPID)
    monkeypatch.setenv("WECHAT_SECRET", "s")
    monkeypatch.setenv("WECHAT_AES_KEY", AES_KEY)
    [channel] = [c for c in create_http_input_channels(None, str(CREDENTIALS))
                 if isinstance(c, WeChatInput)]
    assert channel.configured and channel.crypto is not None and channel.client is not None


# ---- several workers: what one worker saw, the other knows ------------------------------------

@pytest.fixture
def two_workers(make_server, monkeypatch, tmp_path):
    """Two channel instances sharing state as two Sanic workers of one server do."""
    monkeypatch.setenv("SANIC_WORKERS", "2")
    monkeypatch.setenv("STATE_DB_PATH", str(tmp_path / "state.db"))
    a, b = make_server(), make_server()
    first, second = WeChatPlatform(a.url, TOKEN), WeChatPlatform(b.url, TOKEN)
    second.next_msg_id = first.next_msg_id  # one platform: one sequence of message ids
    return first, second


def test_a_retry_reaching_another_worker_is_not_processed_again(two_workers, bot, user):
    a, b = two_workers
    bot.delay = 0.5
    msg_id = a.next_msg_id()
    with ThreadPoolExecutor(2) as pool:
        first, retry = pool.map(lambda w: w.send_text(user, "开化县", msg_id=msg_id), (a, b))
    assert bot.texts == ["开化县"]
    assert "你说的是：开化县" in {first.text, retry.text}


def test_options_offered_by_one_worker_are_chosen_on_the_other(two_workers, bot, user):
    a, b = two_workers
    bot.replies["人才政策"] = [{"text": "您想了解哪一项措施？", "buttons": BUTTONS}]
    assert OPTIONS_LEAD in a.send_text(user, "人才政策").text
    b.send_text(user, "2")
    assert bot.texts == ["人才政策", '/ask_clause{"measure":"m2"}']


def test_one_worker_alone_keeps_its_state_in_memory(make_server, monkeypatch, bot, user, tmp_path):
    monkeypatch.setenv("SANIC_WORKERS", "1")
    monkeypatch.setenv("STATE_DB_PATH", str(tmp_path / "state.db"))
    w = WeChatPlatform(make_server().url, TOKEN)
    bot.replies["人才政策"] = [{"text": "哪一项？", "buttons": BUTTONS}]
    w.send_text(user, "人才政策")
    w.send_text(user, "1")
    assert bot.texts == ["人才政策", '/ask_clause{"measure":"m1"}']
    assert not (tmp_path / "state.db").exists()
