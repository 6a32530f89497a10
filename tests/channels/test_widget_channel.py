"""The widget channel over HTTP: sessions, chat, history, ratings, CORS and limits.

Runs against tests/channels/widget_fake_server.py: Rasa's own app factory with the widget
channel, real in-memory tracker and lock stores, and a scripted agent instead of a model."""
from __future__ import annotations

import pytest
import requests

from bot.channels.widget import (
    WidgetInput, WidgetSessions, history_messages, load_session_secret, parse_origins,
    quoted_locations, with_locations,
)
from bot.shared_state import SlidingWindowLimiter
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from tests.channels.widget_fixtures import ALLOWED_ORIGIN, fake_server  # noqa: F401


@pytest.fixture(autouse=True)
def one_worker(monkeypatch):
    """These channels stand for one Rasa worker alone: their state stays in memory."""
    monkeypatch.setenv("SANIC_WORKERS", "1")


pytestmark = pytest.mark.e2e


def W(base: str, path: str) -> str:
    return f"{base}/webhooks/widget/{path}"


def session(base: str, **kw) -> str:
    """A new conversation, as widget.js starts one: a session id issued by the server."""
    r = requests.post(W(base, "session"), json={}, timeout=10, **kw)
    assert r.status_code == 200, r.text
    return r.json()["session"]


def say(base: str, sender: str, text: str, **kw):
    return requests.post(W(base, "webhook"), json={"sender": sender, "message": text}, timeout=30, **kw)


def tracker_events(base: str, sender: str):
    r = requests.get(f"{base}/test/tracker/{sender}", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["events"]


# ------------------------------------------------------------------------ static files

@pytest.mark.parametrize("path, ctype", [("widget.js", "javascript"), ("widget.css", "text/css"),
                                         ("demo", "text/html")])
def test_static_files_are_served(fake_server, path, ctype):
    r = requests.get(W(fake_server, path), timeout=10)
    assert r.status_code == 200
    assert ctype in r.headers["content-type"]
    assert r.headers.get("x-content-type-options") == "nosniff"


def test_demo_page_embeds_the_widget_with_one_script_tag(fake_server):
    html = requests.get(W(fake_server, "demo"), timeout=10).text
    assert "浙江省人力资源和社会保障厅" in html
    assert html.count('<script src="widget.js"') == 1
    assert "data-title=" in html and "data-greeting=" in html


def test_static_files_name_the_document_from_the_knowledge_base(fake_server):
    from policy_kb import get_kb

    doc = get_kb().document
    js = requests.get(W(fake_server, "widget.js"), timeout=10).text
    html = requests.get(W(fake_server, "demo"), timeout=10).text
    assert f"出处：{doc.number}" in js and f"我可以解答{doc.number}（" in js
    assert f"<h1>{doc.title}</h1>" in html and f"文号：{doc.number}" in html
    assert "服务热线：12333" in html
    assert "{{" not in js and "{{" not in html


def test_widget_script_never_renders_server_text_as_markup(fake_server):
    js = requests.get(W(fake_server, "widget.js"), timeout=10).text
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in js


# ------------------------------------------------------------------------ chat

def test_answer_has_rest_shape_with_timestamps_and_citation_locations(fake_server):
    sender = session(fake_server)
    r = say(fake_server, sender, "第七条讲什么")
    assert r.status_code == 200
    msgs = r.json()
    assert [("text" in m, "custom" in m) for m in msgs] == [(True, False), (False, True)]
    assert all(m["recipient_id"] == sender for m in msgs)
    assert msgs[0]["timestamp"] == msgs[1]["timestamp"]
    cite = msgs[1]["custom"]["citations"][0]
    assert cite["clause_id"] == "m7" and cite["location"] == "三、主要举措（七）"


def test_buttons_come_with_the_text(fake_server):
    msgs = say(fake_server, session(fake_server), "博士后出站补助我能拿吗").json()
    assert [b["title"] for b in msgs[0]["buttons"]] == ["民营企业", "国有企业"]
    assert msgs[1]["custom"]["eligibility"]["verdict"] == "need_info"


@pytest.mark.parametrize("body, status", [
    ({"message": "你好"}, 400),
    ({"sender": "SESSION", "message": ""}, 400),
    ({"sender": "SESSION", "message": 42}, 400),
    ({"sender": "SESSION", "message": "长" * 501}, 413),
])
def test_bad_messages_are_refused(fake_server, body, status):
    if body.get("sender") == "SESSION":
        body = dict(body, sender=session(fake_server))
    r = requests.post(W(fake_server, "webhook"), json=body, timeout=10)
    assert r.status_code == status
    assert "error" in r.json()


@pytest.mark.parametrize("body", [
    pytest.param(b"[" * 10_000, id="body"),
    pytest.param(b'{"sender": "x", "message": ' + b"[" * 5000 + b"]" * 5000 + b"}", id="message"),
    pytest.param(b'{"sender": "x", "message": "hi", "m": ' + b'{"a":' * 50 + b"1" + b"}" * 50 + b"}",
                 id="field"),
])
def test_deeply_nested_json_is_a_short_400(fake_server, body):
    r = requests.post(W(fake_server, "webhook"), data=body, timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert "nested" in r.json()["error"] and len(r.content) < 200


# ------------------------------------------------------------------------ sessions

def test_sessions_are_issued_by_the_server_and_unguessable(fake_server):
    a, b = session(fake_server), session(fake_server)
    assert a != b and len(a) == 45 and a.count(".") == 1
    r = requests.post(W(fake_server, "session"), json={}, timeout=10,
                      headers={"Origin": "https://evil.example"})
    assert r.status_code == 403


@pytest.mark.parametrize("made_up", [
    "t" + "0" * 31,                                   # an id of the old, browser-made kind
    "o" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n",             # a WeChat OpenID
    "citizen-1234567890abcdef",                       # a REST sender
    "wechat:oA1b2C3d4E5f6G7h8I9j0K1l2M3n",
    "AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",  # the right shape, not signed by the server
])
def test_a_made_up_or_other_channels_id_gets_403_and_nothing(fake_server, made_up):
    r = say(fake_server, made_up, "你好")
    assert r.status_code == 403 and r.json() == {"error": "unknown session: ask POST /session for a new one"}
    r = requests.get(W(fake_server, "history"), params={"sender": made_up}, timeout=10)
    assert r.status_code == 403 and "messages" not in r.json()
    r = requests.post(W(fake_server, "rating"), timeout=10,
                      json={"sender": made_up, "message_index": 0, "helpful": True})
    assert r.status_code == 403


def test_history_and_rating_read_only_the_conversation_of_the_same_session(fake_server):
    mine = session(fake_server)
    assert say(fake_server, mine, "我的身份证号是33010219900307123X，开化县是山区县吗").status_code == 200
    other = session(fake_server)
    r = requests.get(W(fake_server, "history"), params={"sender": other}, timeout=10)
    assert r.status_code == 200 and r.json()["messages"] == []
    assert "33010219900307123X" not in r.text
    r = requests.post(W(fake_server, "rating"), timeout=10,
                      json={"sender": other, "message_index": 0, "helpful": False})
    assert r.status_code == 404
    # the same id with another server's signature
    forged = mine.split(".")[0] + "." + WidgetSessions(b"x" * 32).issue().split(".")[1]
    r = requests.get(W(fake_server, "history"), params={"sender": forged}, timeout=10)
    assert r.status_code == 403 and "33010219900307123X" not in r.text
    mine_history = requests.get(W(fake_server, "history"), params={"sender": mine}, timeout=10)
    assert "33010219900307123X" in mine_history.text


def test_a_rest_sender_cannot_reach_a_widget_conversation(fake_server):
    token = session(fake_server)
    sid = token.split(".")[0]
    say(fake_server, token, "我的手机是13812345678，开化县是山区县吗")
    for sender in (token, sid, "widget:" + sid):
        r = requests.post(f"{fake_server}/webhooks/rest/webhook", timeout=10,
                          json={"sender": sender, "message": "你好"})
        assert r.status_code == 200 and r.json()[0]["recipient_id"] == sender
    hist = requests.get(W(fake_server, "history"), params={"sender": token}, timeout=10).json()
    assert [m["text"] for m in hist["messages"] if m["role"] == "user"] == [
        "我的手机是13812345678，开化县是山区县吗"]
    events = tracker_events(fake_server, "rest:widget:" + sid)  # REST's own, apart from it
    assert [e["text"] for e in events if e["event"] == "user"] == ["你好"]


def test_the_session_secret_is_generated_once_and_kept_under_var(tmp_path):
    env = {"VAR_DIR": str(tmp_path)}
    first = load_session_secret(env)
    assert len(first) >= 32 and load_session_secret(env) == first
    key = tmp_path / "widget-session.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert load_session_secret({**env, "WIDGET_SESSION_SECRET": "s" * 40}) == b"s" * 40
    with pytest.raises(ValueError, match="WIDGET_SESSION_SECRET"):
        load_session_secret({**env, "WIDGET_SESSION_SECRET": "short"})
    token = WidgetSessions(first).issue()
    assert WidgetSessions(first).verify(token) == token.split(".")[0]
    assert WidgetSessions(b"another secret, 32 bytes long...").verify(token) is None


def test_non_json_body_is_refused(fake_server):
    r = requests.post(W(fake_server, "webhook"), data="not json", timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_one_conversation_is_rate_limited(fake_server):
    sender = session(fake_server)
    codes = [say(fake_server, sender, "你好").status_code for _ in range(31)]
    assert codes[:30] == [200] * 30
    assert codes[30] == 429
    # another conversation is not affected
    assert say(fake_server, session(fake_server), "你好").status_code == 200


# ------------------------------------------------------------------------ CORS

def test_preflight_from_allowed_origin(fake_server):
    r = requests.options(W(fake_server, "webhook"), timeout=10, headers={
        "Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "content-type" in r.headers["access-control-allow-headers"].lower()
    assert "POST" in r.headers["access-control-allow-methods"]


def test_preflight_and_post_from_other_origin_are_refused(fake_server):
    r = requests.options(W(fake_server, "webhook"), timeout=10, headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 403
    assert "access-control-allow-origin" not in r.headers
    sender = session(fake_server)
    r = say(fake_server, sender, "你好", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert requests.get(f"{fake_server}/test/tracker/{sender}", timeout=10).status_code == 404


def test_post_from_allowed_origin_gets_exactly_one_allow_origin_header(fake_server):
    r = say(fake_server, session(fake_server), "你好", headers={"Origin": ALLOWED_ORIGIN})
    assert r.status_code == 200
    assert r.raw.headers.getlist("Access-Control-Allow-Origin") == [ALLOWED_ORIGIN]


def test_the_assistants_own_loopback_page_needs_no_allow_list(fake_server):
    r = say(fake_server, session(fake_server), "你好", headers={"Origin": fake_server})
    assert r.status_code == 200


def test_origin_is_compared_with_the_allowed_origins_never_with_host(fake_server):
    port = fake_server.rsplit(":", 1)[1]
    for origin in (f"http://evil.example:{port}", "null"):
        headers = {"Origin": origin, "Host": origin.replace("http://", "")}
        r = say(fake_server, session(fake_server), "你好", headers=headers)
        assert r.status_code == 403, origin
        r = requests.get(W(fake_server, "history"), params={"sender": session(fake_server)},
                         headers=headers, timeout=10)
        assert r.status_code == 403


# ------------------------------------------------------------------------ history

def test_history_rebuilds_the_conversation_with_button_titles(fake_server):
    sender = session(fake_server)
    say(fake_server, sender, "博士后出站补助我能拿吗")
    say(fake_server, sender, '/inform{"employer_type": "private"}')
    r = requests.get(W(fake_server, "history"), params={"sender": sender}, timeout=10)
    assert r.status_code == 200
    msgs = r.json()["messages"]
    assert [m["role"] for m in msgs] == ["user", "bot", "user", "bot"]
    assert msgs[0]["text"] == "博士后出站补助我能拿吗"
    assert msgs[1]["buttons"][0]["title"] == "民营企业"
    assert msgs[1]["custom"]["citations"][0]["location"] == "三、主要举措（一）"
    assert msgs[2]["text"] == "民营企业"  # the title the person clicked, not the payload
    assert msgs[2]["payload"].startswith("/inform")
    assert msgs[3]["custom"]["eligibility"]["verdict"] == "eligible"
    assert [m.get("message_index") for m in msgs if m["role"] == "bot"] == [0, 1]


def test_history_of_a_new_session_is_empty_not_an_error(fake_server):
    # widget.js reads it when it comes back to a session whose first question never arrived:
    # a 404 there would be a failed request in the visitor's console.
    sender = session(fake_server)
    r = requests.get(W(fake_server, "history"), params={"sender": sender}, timeout=10)
    assert r.status_code == 200 and r.json() == {"sender": sender, "messages": []}


def test_history_needs_a_session(fake_server):
    assert requests.get(W(fake_server, "history"), timeout=10).status_code == 400


# ------------------------------------------------------------------------ ratings

def test_rating_is_stored_in_the_conversation_as_feedback_slot(fake_server):
    sender = session(fake_server)
    msgs = say(fake_server, sender, "第七条讲什么").json()
    ts = msgs[0]["timestamp"]
    r = requests.post(W(fake_server, "rating"), timeout=10, json={
        "sender": sender, "timestamp": ts, "helpful": False, "comment": "希望说明申请流程"})
    assert r.status_code == 200, r.text

    events = tracker_events(fake_server, sender)
    feedback = [e for e in events if e["event"] == "slot" and e["name"] == "feedback"]
    assert len(feedback) == 1
    value = feedback[0]["value"]
    assert value["helpful"] is False and value["comment"] == "希望说明申请流程"
    assert value["bot_timestamp"] == ts and value["message_index"] == 0
    assert value["bot_text"].startswith("（七）加强创业扶持")

    hist = requests.get(W(fake_server, "history"), params={"sender": sender}, timeout=10).json()
    bot = [m for m in hist["messages"] if m["role"] == "bot"][0]
    assert bot["rating"] == {"helpful": False, "comment": "希望说明申请流程"}


def test_a_thumbs_down_carries_its_reason_to_the_store_and_the_history(fake_server):
    sender = session(fake_server)
    ts = say(fake_server, sender, "第七条讲什么").json()[0]["timestamp"]
    r = requests.post(W(fake_server, "rating"), timeout=10, json={
        "sender": sender, "timestamp": ts, "helpful": False, "reason": "太长看不懂", "comment": "想要短一点"})
    assert r.status_code == 200, r.text
    assert r.json()["feedback"]["reason"] == "太长看不懂"
    value = [e["value"] for e in tracker_events(fake_server, sender)
             if e["event"] == "slot" and e["name"] == "feedback"][-1]
    # bot/staff/turns.py reads "reason" from this slot into the console's index
    assert (value["helpful"], value["reason"], value["comment"]) == (False, "太长看不懂", "想要短一点")
    hist = requests.get(W(fake_server, "history"), params={"sender": sender}, timeout=10).json()
    rating = [m for m in hist["messages"] if m["role"] == "bot"][0]["rating"]
    assert rating == {"helpful": False, "reason": "太长看不懂", "comment": "想要短一点"}


@pytest.mark.parametrize("reason", ["随便写的", 3, "回答错误", ""])
def test_a_reason_is_one_of_the_four_and_only_for_a_thumbs_down(fake_server, reason):
    sender = session(fake_server)
    ts = say(fake_server, sender, "第七条讲什么").json()[0]["timestamp"]
    helpful = reason == "回答错误"  # a valid reason, but with 👍
    r = requests.post(W(fake_server, "rating"), timeout=10, json={
        "sender": sender, "timestamp": ts, "helpful": helpful, "reason": reason})
    assert r.status_code == 400 and "reason" in r.json()["error"]


def test_rating_comments_are_stored_as_text_and_escaped_on_every_output(fake_server):
    sender = session(fake_server)
    ts = say(fake_server, sender, "第七条讲什么").json()[0]["timestamp"]
    comment = '<img src=x onerror=alert(1)>不清楚<script>alert("x")</script> & 3 < 5'
    r = requests.post(W(fake_server, "rating"), timeout=10, json={
        "sender": sender, "timestamp": ts, "helpful": False, "comment": comment})
    assert r.status_code == 200
    assert b"<" not in r.content and b">" not in r.content and b"&" not in r.content
    stored = [e["value"] for e in tracker_events(fake_server, sender)
              if e["event"] == "slot" and e["name"] == "feedback"][-1]
    assert stored["comment"] == '不清楚 alert("x") & 3 < 5'  # text: the tags are gone
    hist = requests.get(W(fake_server, "history"), params={"sender": sender}, timeout=10)
    assert b"<" not in hist.content and b">" not in hist.content and b"&" not in hist.content
    rating = [m for m in hist.json()["messages"] if m["role"] == "bot"][0]["rating"]
    assert rating["comment"] == stored["comment"]  # the same text for a JSON reader


def test_rating_by_message_index_and_rerating_keeps_the_latest(fake_server):
    sender = session(fake_server)
    say(fake_server, sender, "你好")
    say(fake_server, sender, "开化县是山区县吗")
    for helpful in (True, False, True):
        r = requests.post(W(fake_server, "rating"), timeout=10,
                          json={"sender": sender, "message_index": 1, "helpful": helpful})
        assert r.status_code == 200
    hist = requests.get(W(fake_server, "history"), params={"sender": sender}, timeout=10).json()
    bots = [m for m in hist["messages"] if m["role"] == "bot"]
    assert "rating" not in bots[0]
    assert bots[1]["rating"] == {"helpful": True}
    # the conversation carries on normally after ratings
    assert say(fake_server, sender, "第七条讲什么").status_code == 200


@pytest.mark.parametrize("body", [
    {"timestamp": 1.0, "helpful": "yes"},
    {"timestamp": 1.0},
    {"helpful": True},
    {"message_index": -1, "helpful": True},
    {"message_index": True, "helpful": True},
    {"timestamp": "now", "helpful": True},
    {"message_index": 0, "helpful": True, "comment": 5},
    {"message_index": 0, "helpful": True, "comment": "长" * 501},
])
def test_bad_ratings_are_400(fake_server, body):
    sender = session(fake_server)
    say(fake_server, sender, "你好")
    r = requests.post(W(fake_server, "rating"), json={"sender": sender, **body}, timeout=10)
    assert r.status_code == 400, r.text


def test_rating_a_session_without_conversation_or_an_unknown_message_is_404(fake_server):
    r = requests.post(W(fake_server, "rating"), timeout=10,
                      json={"sender": session(fake_server), "message_index": 0, "helpful": True})
    assert r.status_code == 404
    sender = session(fake_server)
    say(fake_server, sender, "你好")
    for ref in ({"message_index": 5}, {"timestamp": 12345.0}):
        r = requests.post(W(fake_server, "rating"), timeout=10,
                          json={"sender": sender, "helpful": True, **ref})
        assert r.status_code == 404


# ------------------------------------------------------------------------ units

def test_origins_from_credentials():
    assert parse_origins("") == []
    assert parse_origins(None) == []
    assert parse_origins("https://A.gov.cn/, https://b.gov.cn") == ["https://a.gov.cn", "https://b.gov.cn"]
    assert parse_origins(["*"]) == ["*"]
    ch = WidgetInput.from_credentials({"allowed_origins": "https://a.gov.cn", "max_message_chars": "200"})
    assert ch.allowed_origins == ["https://a.gov.cn"] and ch.max_message_chars == 200
    with pytest.raises(ValueError):
        WidgetInput.from_credentials({"sender_per_minute": "many"})


def test_credentials_file_registers_the_widget(monkeypatch):
    import rasa.shared.utils.common
    import rasa.shared.utils.io

    from bot.settings import Settings

    monkeypatch.setenv("WIDGET_ALLOWED_ORIGINS", "https://www.zj.gov.cn")
    # The server's entry point writes every setting into the environment before Rasa reads the
    # credentials file's ${...}: do the same here.
    for name, value in Settings.from_env().env().items():
        monkeypatch.setenv(name, value)
    creds = rasa.shared.utils.io.read_config_file("bot/credentials.yml")
    assert "bot.channels.rest.GuardedRestInput" in creds  # REST, still at /webhooks/rest/
    key = "bot.channels.widget.WidgetInput"
    cls = rasa.shared.utils.common.class_from_module_path(key)
    widget = cls.from_credentials(creds[key])
    assert isinstance(widget, WidgetInput)
    assert widget.allowed_origins == ["https://www.zj.gov.cn"]
    assert widget.url_prefix() == "widget"


def test_rate_limiter_window():
    rl = SlidingWindowLimiter(2, window=60)
    assert rl.allow("a", now=0) and rl.allow("a", now=1)
    assert not rl.allow("a", now=2)
    assert rl.allow("b", now=2)
    assert rl.allow("a", now=61)
    assert SlidingWindowLimiter(0).allow("x")


def test_citation_locations_come_from_the_quoted_clause():
    text = "开头\n【原文】三、主要举措（七）\n“有“引号”的条款。”\n【责任单位】省人力社保厅"
    assert quoted_locations(text) == [{"location": "三、主要举措（七）", "text": "有“引号”的条款。"}]
    custom = {"citations": [{"clause_id": "m7", "title": "加强创业扶持", "text": "有“引号”的条款。"}]}
    out = with_locations(custom, text)
    assert out["citations"][0]["location"] == "三、主要举措（七）"
    assert "location" not in custom["citations"][0]  # the stored payload is not changed
    listing = "省财政厅是以下2项措施的责任单位：\n1. 三、主要举措（一）「支持引进高端人才」：“…”"
    out = with_locations({"citations": [{"clause_id": "m1", "title": "支持引进高端人才", "text": "x"}]},
                         listing)
    assert out["citations"][0]["location"] == "三、主要举措（一）"
    lead = "根据您提供的情况，您属于「支持引进高端人才」（三、主要举措（一））支持的范围。"
    out = with_locations({"citations": [{"clause_id": "m1", "title": "支持引进高端人才", "text": "x"}]},
                         lead)
    assert out["citations"][0]["location"] == "三、主要举措（一）"
    out = with_locations({"citations": [{"clause_id": "m1", "title": "支持引进高端人才", "text": "x"}]},
                         "您属于「支持引进高端人才」的支持范围。")
    assert "location" not in out["citations"][0]
    assert with_locations({"out_of_scope": True}, "x") == {"out_of_scope": True}


def test_history_messages_pairs_ratings_by_timestamp():
    events = [
        UserUttered("你好", input_channel="widget", timestamp=1.0),
        BotUttered("您好", {"buttons": [{"title": "是", "payload": "/affirm"}]}, timestamp=2.0),
        UserUttered("/affirm", input_channel="widget", timestamp=3.0),
        BotUttered("好的", {}, timestamp=4.0),
        SlotSet("feedback", {"helpful": True, "bot_timestamp": 4.0}, timestamp=5.0),
        UserUttered("/affirm", input_channel="widget", timestamp=6.0),
    ]
    msgs = history_messages(events)
    assert [m["text"] for m in msgs] == ["你好", "您好", "是", "好的", "/affirm"]
    assert msgs[3]["rating"] == {"helpful": True}
    assert "rating" not in msgs[1]
