"""Bad input through the real assistant (action server + Rasa with the trained model), on the
REST channel and, for each kind, on the widget and WeChat channels too: every message gets a
clear, polite answer, never a 5xx, never markup; typed payloads cannot force intents; the HTTP
API is not served; personal numbers stay out of the logs."""
from __future__ import annotations

import concurrent.futures
import time
import uuid

import pytest
import requests

from bot.channels.guard import APOLOGY, EMPTY, NO_TEXT, RATE_LIMITED, TRUNCATED
from tests.channels.fake_wechat import TOKEN, WeChatPlatform
from tests.robustness.conftest import (
    customs, need_model, new_sender, post, say, texts, user_events, verdicts,
)

pytestmark = pytest.mark.e2e

PER_MINUTE = 6
ID_CARD = "33010219900307123X"
MOBILE = "13912345678"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    need_model()
    from bot.launcher import Assistant

    logs = tmp_path_factory.mktemp("logs")
    env = {"GUARD_SENDER_PER_MINUTE": str(PER_MINUTE), "ACTION_REPLY_TIMEOUT": "60",
           "LOG_LEVEL": "DEBUG", "WECHAT_TOKEN": TOKEN, "WECHAT_PASSIVE_TIMEOUT": "60"}
    with Assistant(env=env, log_dir=logs) as a:
        a.log_dir = logs
        yield a


def widget(a, sender: str, message: str):
    return requests.post(f"{a.base}/webhooks/widget/webhook",
                         json={"sender": sender, "message": message}, timeout=90)


def widget_sender(a) -> str:
    """A new widget conversation: a session id the server issues."""
    r = requests.post(f"{a.base}/webhooks/widget/session", json={}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["session"]


def widget_conversation(session: str) -> str:
    """The tracker's id of a widget session's conversation."""
    return "widget:" + session.split(".")[0]


def wechat(a) -> WeChatPlatform:
    return WeChatPlatform(f"{a.base}/webhooks/wechat/webhook", TOKEN)


def openid() -> str:
    return "o" + uuid.uuid4().hex[:27]


def no_markup(messages) -> None:
    for t in texts(messages):
        assert "<script" not in t.lower() and "<b>" not in t.lower() and "<img" not in t.lower()


# ---------------------------------------------------------------- empty, blank, invisible, emoji

@pytest.mark.parametrize("message, expected", [
    ("", EMPTY), ("     ", EMPTY), ("\n\t", EMPTY), (None, EMPTY), ("\u200b\u200d\ufeff", EMPTY),
    ("\x00\x01\x1b", EMPTY), ("😀😀😀", NO_TEXT), ("👍", NO_TEXT), ("？？？!!!", NO_TEXT),
])
def test_empty_blank_invisible_and_emoji_only_get_a_polite_request(assistant, message, expected):
    r = post(assistant.rest, new_sender(), message)
    assert r.status_code == 200
    assert texts(r.json()) == [expected]


def test_empty_and_emoji_on_widget_and_wechat(assistant):
    for message, expected in (("\u200b\u200b", EMPTY), ("😀😀", NO_TEXT)):
        r = widget(assistant, widget_sender(assistant), message)
        assert r.status_code == 200 and texts(r.json()) == [expected]
        reply = wechat(assistant).send_text(openid(), message, timeout=90)
        assert reply.status == 200 and reply.text == expected


# ---------------------------------------------------------------- long messages

def test_ten_thousand_characters_are_bounded_and_the_person_told(assistant):
    started = time.monotonic()
    msgs = say(assistant.rest, new_sender(), "开化县是山区县吗？" * 1200)  # 10,800 characters
    assert time.monotonic() - started < 60
    assert texts(msgs)[0] == TRUNCATED.format(limit=1000)
    assert any(c.get("county", {}).get("name") == "开化县" for c in customs(msgs)), msgs


def test_long_message_on_wechat_is_bounded_too(assistant):
    reply = wechat(assistant).send_text(openid(), "开化县是山区县吗" + "啊" * 3000, timeout=90)
    assert reply.status == 200
    assert reply.text.startswith(TRUNCATED.format(limit=1000))
    assert "开化县" in reply.text


def test_widget_refuses_overlong_messages_with_its_own_limit(assistant):
    r = widget(assistant, widget_sender(assistant), "长" * 10_001)
    assert r.status_code == 413 and "error" in r.json()  # widget.js shows a polite notice


# ---------------------------------------------------------------- control characters, markup

def test_control_and_zero_width_characters_inside_a_question(assistant):
    msgs = say(assistant.rest, new_sender(), "开\u200b化\x00县\u202e是\ufeff山区县\x1b吗")
    assert any(c.get("county", {}).get("name") == "开化县" for c in customs(msgs)), msgs


@pytest.mark.parametrize("message", [
    "<script>alert('x')</script>开化县是山区县吗",
    "<img src=x onerror=alert(1)><b>开化县</b>是山区县吗",
    "<script>alert(document.cookie)</script>",
])
def test_html_and_script_are_never_echoed_as_markup(assistant, message):
    sender = new_sender()
    msgs = say(assistant.rest, sender, message)
    assert texts(msgs)
    no_markup(msgs)
    stored = user_events(assistant.rasa.tracker_db, sender)[-1]["text"]
    assert "<" not in stored
    r = widget(assistant, widget_sender(assistant), message)
    assert r.status_code == 200 and texts(r.json())
    no_markup(r.json())
    reply = wechat(assistant).send_text(openid(), message, timeout=90)
    assert reply.status == 200 and "<script" not in reply.text


# ---------------------------------------------------------------- SQL-looking, mixed languages

@pytest.mark.parametrize("message", [
    "'; DROP TABLE events; --", "1' OR '1'='1", "SELECT * FROM events WHERE sender_id='x'",
    "开化县'); DELETE FROM events;--",
])
def test_sql_looking_text_is_only_text(assistant, message):
    sender = new_sender()
    assert texts(say(assistant.rest, sender, message))
    # the conversation, and the store, still work
    follow = say(assistant.rest, sender, "开化县是山区县吗")
    assert any(c.get("county", {}).get("name") == "开化县" for c in customs(follow))
    assert len(user_events(assistant.rasa.tracker_db, sender)) == 2


@pytest.mark.parametrize("message", [
    "Is 开化县 a mountain county?", "松阳 postdoc 补助 how much", "開化縣是山區縣嗎", "kaihua 是山区县吗",
    "Привет 你好", "こんにちは、開化県は山区県ですか",
])
def test_mixed_languages_get_an_answer(assistant, message):
    r = post(assistant.rest, new_sender(), message)
    assert r.status_code == 200
    assert texts(r.json()) and APOLOGY not in texts(r.json())


def test_mixed_languages_on_widget_and_wechat(assistant):
    r = widget(assistant, widget_sender(assistant), "Is 开化县 a mountain county?")
    assert r.status_code == 200 and "开化县" in "".join(texts(r.json()))
    reply = wechat(assistant).send_text(openid(), "Is 开化县 a mountain county?", timeout=90)
    assert reply.status == 200 and "开化县" in reply.text


# ---------------------------------------------------------------- malformed requests

@pytest.mark.parametrize("body, status", [
    (b"not json", 400), (b"[1, 2]", 400), (b'{"message": "hi"}', 400),
    (b'{"sender": "", "message": "hi"}', 400), (b'{"sender": "x", "message": 42}', 400),
    (b'{"sender": "x", "message": ["hi"]}', 400),
])
def test_malformed_rest_requests_get_4xx_not_5xx(assistant, body, status):
    r = requests.post(assistant.rest, data=body, headers={"Content-Type": "application/json"},
                      timeout=30)
    assert r.status_code == status
    assert "error" in r.json()


# ---------------------------------------------------------------- the same message, fast

def test_the_same_message_fast_and_often_is_rate_limited_politely(assistant):
    sender = new_sender()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(lambda _: post(assistant.rest, sender, "开化县是山区县吗"),
                                  range(PER_MINUTE + 4)))
    assert all(r.status_code == 200 for r in responses)
    limited = [r for r in responses if texts(r.json()) == [RATE_LIMITED]]
    assert len(limited) == 4
    # another conversation is not affected
    assert texts(say(assistant.rest, new_sender(), "开化县是山区县吗")) != [RATE_LIMITED]


def test_wechat_rate_limit_is_polite_too(assistant):
    user, platform = openid(), wechat(assistant)
    replies = [platform.send_text(user, "你好", timeout=90) for _ in range(PER_MINUTE + 1)]
    assert all(r.status == 200 for r in replies)
    assert replies[-1].text == RATE_LIMITED


# ---------------------------------------------------------------- typed payloads

def test_hand_typed_payload_cannot_force_an_intent_or_set_slots(assistant):
    sender = new_sender()
    msgs = say(assistant.rest, sender, '/ask_eligibility{"place":"缙云县"}')
    assert texts(msgs)
    event = user_events(assistant.rasa.tracker_db, sender)[-1]
    assert event["text"] == 'ask_eligibility{"place":"缙云县"}'  # read as text
    intent = event["parse_data"]["intent"]
    assert intent.get("confidence", 0) < 1.0  # classified by the NLU, not forced
    # no entity was injected from the payload: each comes from an extractor reading the text
    assert all(e.get("extractor") for e in event["parse_data"].get("entities", []))


def offered(messages):
    return [b["payload"] for m in messages for b in m.get("buttons", [])]


def ask_until_employer_buttons(send):
    """Starts an eligibility question and answers until the assistant offers employer buttons."""
    msgs = send("博士后出站补助我能拿吗")
    assert verdicts(msgs) == ["need_info"]
    if not any("employer_type" in p for p in offered(msgs)):
        msgs = send("去遂昌")
    payloads = offered(msgs)
    assert any("employer_type" in p and "private" in p for p in payloads), msgs
    return payloads


def test_clicking_an_offered_button_works_and_only_that_payload(assistant):
    sender = new_sender()
    send = lambda text: say(assistant.rest, sender, text)  # noqa: E731
    payloads = ask_until_employer_buttons(send)
    assert all(p.startswith("/") for p in payloads)
    # a payload the assistant did not offer is read as text
    say(assistant.rest, sender, '/inform{"role":"graduate"}')
    assert user_events(assistant.rasa.tracker_db, sender)[-1]["text"] == 'inform{"role":"graduate"}'
    private = next(p for p in ask_until_employer_buttons(send) if "private" in p)
    clicked = say(assistant.rest, sender, private)
    event = user_events(assistant.rasa.tracker_db, sender)[-1]
    assert event["text"] == private
    assert event["parse_data"]["intent"]["confidence"] == 1.0
    assert verdicts(clicked) == ["eligible"], clicked


def test_widget_button_click_works_and_typed_payload_does_not(assistant):
    sender = widget_sender(assistant)
    send = lambda text: widget(assistant, sender, text).json()  # noqa: E731
    private = next(p for p in ask_until_employer_buttons(send) if "private" in p)
    assert verdicts(send(private)) == ["eligible"]
    other = widget_sender(assistant)
    widget(assistant, other, private)
    assert user_events(assistant.rasa.tracker_db,
                       widget_conversation(other))[-1]["text"] == private.lstrip("/")


# ---------------------------------------------------------------- access

@pytest.mark.parametrize("method, path", [
    ("GET", "/conversations/x/tracker"), ("POST", "/conversations/x/messages"),
    ("POST", "/model/parse"), ("PUT", "/model"), ("GET", "/status"), ("GET", "/domain"),
    ("POST", "/conversations/x/trigger_intent"),
])
def test_the_http_api_is_not_served_by_default(assistant, method, path):
    r = requests.request(method, assistant.base + path, json={"text": "hi"}, timeout=30)
    assert r.status_code == 404


def test_only_the_channel_webhooks_answer(assistant):
    assert requests.get(assistant.base + "/", timeout=30).status_code == 200
    for channel in ("rest", "widget", "wechat"):
        assert requests.get(f"{assistant.base}/webhooks/{channel}/", timeout=30).status_code == 200


# ---------------------------------------------------------------- privacy

def test_personal_numbers_never_reach_the_logs(assistant):
    sender = new_sender()
    say(assistant.rest, sender, f"我的身份证号是{ID_CARD}，手机{MOBILE}，开化县是山区县吗")
    widget(assistant, widget_sender(assistant), f"手机{MOBILE}，开化县是山区县吗")
    wechat(assistant).send_text(openid(), f"身份证{ID_CARD}", timeout=90)
    time.sleep(1)
    rasa_log = (assistant.log_dir / "rasa.log").read_text(errors="replace")
    actions_log = (assistant.log_dir / "actions.log").read_text(errors="replace")
    for log in (rasa_log, actions_log):
        assert ID_CARD not in log and MOBILE not in log
    # Rasa logs user messages at DEBUG: the masked forms show the filter worked on them
    assert "139****5678" in rasa_log
